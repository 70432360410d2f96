"""Shifts in and out of .ics: an import names the line and the field it refuses, an export
holds names and times only, and a feed link is a secret that a new link revokes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.oncall import feeds, ical
from clinicline.oncall.models import FeedToken
from clinicline.oncall.schedules import shifts
from tests.conftest import make_member
from tests.oncall.support import local, make_schedule

pytestmark = pytest.mark.django_db
NY = zoneinfo.ZoneInfo("America/New_York")
WINDOW = (local(2026, 11, 1), local(2027, 11, 1))


@pytest.fixture
def osei(practice):
    user = make_member(practice, Role.PROVIDER, "osei", email="osei@riverside.example")
    user.first_name, user.last_name = "Amara", "Osei"
    user.save()
    return user


@pytest.fixture
def kim(practice):
    return make_member(practice, Role.PROVIDER, "kim", email="hkim@riverside.example")


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e}END:VEVENT\r\n" for e in events)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return f"{head}{body}END:VCALENDAR\r\n".encode()


def event(uid: str, summary: str, start: str, end: str, extra: str = "") -> str:
    return (f"UID:{uid}\r\nSUMMARY:{summary}\r\nDTSTART;TZID=America/New_York:{start}\r\n"
            f"DTEND;TZID=America/New_York:{end}\r\n{extra}")


def read(data: bytes, practice):
    return ical.read_shifts(data, practice, NY, *WINDOW)


def test_events_become_shifts_by_name_username_or_attendee_email(practice, osei, kim):
    found = read(ics(event("1", "Amara Osei", "20261205T080000", "20261206T080000"),
                     event("2", "KIM", "20261206T080000", "20261207T080000"),
                     event("3", "Weekend", "20261207T080000", "20261207T200000",
                           "ATTENDEE:mailto:HKim@riverside.example\r\n")), practice)
    assert [(s.member, s.starts_at) for s in found] == [
        (osei, local(2026, 12, 5, 8)), (kim, local(2026, 12, 6, 8)), (kim, local(2026, 12, 7, 8))]
    assert found[0].starts_at.utcoffset() == dt.timedelta(0)


def test_a_weekly_recurring_event_is_expanded(practice, osei):
    found = read(ics(event("1", "osei", "20261201T180000", "20261202T080000",
                           "RRULE:FREQ=WEEKLY;COUNT=3\r\n")), practice)
    assert [s.starts_at for s in found] == [local(2026, 12, d, 18) for d in (1, 8, 15)]


@pytest.mark.parametrize("data,message", [
    (b"hello", "Line 1: an .ics file starts with BEGIN:VCALENDAR."),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nthis is not a line\r\nEND:VCALENDAR\r\n",
     "Line 3: not a valid iCalendar content line."),
    (b"BEGIN:VCALENDAR\r\n\xff\xfe\r\n", "Line 2: the file is not UTF-8 text."),
    (ics(), "The file holds no events (VEVENT)."),
    (ics(event("1", "osei", "20261201T080000", "20261202T080000"),
         "UID:2\r\nSUMMARY:osei\r\nDTSTART:20261203T25\r\nDTEND:20261204T080000Z\r\n"),
     "Line 13 (event 2), DTSTART: Expected datetime, date, or time. Got: '20261203T25'."),
    (ics("SUMMARY:osei\r\nDTSTART:20261203T080000Z\r\nDTEND:20261204T080000Z\r\n"),
     "Line 4 (event 1): the event has no UID."),
    (ics("UID:1\r\nSUMMARY:osei\r\nDTSTART:20261203T080000Z\r\n"),
     "Line 4 (event 1): the event has neither DTEND nor DURATION."),
    (ics(event("1", "Dr. Nobody", "20261201T080000", "20261202T080000")),
     "Line 4 (event 1), SUMMARY 'Dr. Nobody': no member of the practice has that name, "
     "username or (as an ATTENDEE) email."),
])
def test_a_bad_file_is_refused_saying_where(practice, osei, data, message):
    with pytest.raises(ical.IcsError) as refused:
        read(data, practice)
    assert str(refused.value) == message


def test_a_member_of_another_practice_is_not_matched(practice, other_practice):
    make_member(other_practice, Role.PROVIDER, "stranger")
    with pytest.raises(ical.IcsError, match="no member of the practice"):
        read(ics(event("1", "stranger", "20261201T080000", "20261202T080000")), practice)


def test_the_export_holds_names_levels_and_times_and_reads_back(practice, osei, kim, nurse):
    schedule = make_schedule(practice, [osei, kim], [nurse])
    found = shifts(schedule, local(2026, 11, 30, 8), local(2026, 12, 14, 8))
    data = ical.calendar_bytes(schedule.name, found, local(2026, 12, 1))
    events = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == [
        "Amara Osei on call (primary)", "kim on call (primary)", "nurse on call (secondary)"]
    assert {name.upper() for e in events for name in e} == {
        "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"}
    back = ical.read_shifts(data.replace(b" on call (primary)", b"")
                            .replace(b" on call (secondary)", b""), practice, NY, *WINDOW)
    assert [(s.member, s.starts_at, s.ends_at) for s in back] == [
        (s.member, s.starts_at, s.ends_at) for s in found]


def test_a_new_link_revokes_the_old_is_stored_hashed_and_audited(practice, osei, kim):
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    schedule = make_schedule(practice, [osei, kim])
    first = feeds.new_link(practice, schedule=schedule, by=admin)
    assert feeds.active(first) is not None
    assert not FeedToken.objects.filter(token_hash=first).exists()
    second = feeds.new_link(practice, schedule=schedule, by=admin)
    assert feeds.active(first) is None and feeds.active(second) is not None
    actions = list(AuditEvent.objects.filter(practice_id=practice.pk)
                   .values_list("action", flat=True))
    assert actions == [Action.FEED_LINK_NEW, Action.FEED_LINK_REVOKE, Action.FEED_LINK_NEW]
    assert first not in "".join(str(e.__dict__) for e in AuditEvent.objects.all())


def test_a_member_feed_holds_only_that_members_shifts_while_they_are_one(practice, osei, kim):
    make_schedule(practice, [osei, kim])
    token = feeds.new_link(practice, member=kim, by=kim)
    data = feeds.feed_bytes(feeds.active(token), local(2026, 12, 1))
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert summaries == {"kim on call (primary)"}
    kim.memberships.all().delete()  # kim leaves the practice: the link stops working
    assert feeds.active(token) is None
