"""Office hours are wall-clock times in the practice's zone: honest across DST, closed at
lunch and on holidays; the hours page is readable by members and editable by admins."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.practices.hours import is_open, next_open, week
from clinicline.practices.models import Holiday, OfficeHours, Practice
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def admin(practice: Practice) -> Client:
    return signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))


def url(practice: Practice, name: str = "hours") -> str:
    return reverse(f"practices:{name}", kwargs={"practice": practice.slug})


@pytest.mark.parametrize(("at", "expected"), [
    (local(2026, 12, 7, 7, 59), False),    # Monday before opening
    (local(2026, 12, 7, 8, 0), True),
    (local(2026, 12, 7, 11, 59), True),
    (local(2026, 12, 7, 12, 20), False),   # lunch
    (local(2026, 12, 7, 13, 0), True),
    (local(2026, 12, 7, 16, 45), True),
    (local(2026, 12, 7, 17, 0), False),
    (local(2026, 12, 5, 10, 0), False),    # Saturday
    (local(2026, 12, 6, 10, 0), False),    # Sunday
])
def test_default_hours_are_weekdays_with_a_lunch_break(practice, at, expected):
    assert is_open(practice, at) is expected


def test_the_moment_is_read_in_the_practice_zone_not_utc(practice):
    # 14:30 UTC on a December Monday is 09:30 in New York: open. 22:30 UTC is 17:30: closed.
    assert is_open(practice, utc(2026, 12, 7, 14, 30))
    assert not is_open(practice, utc(2026, 12, 7, 22, 30))
    # 03:00 UTC Tuesday is still Monday 22:00 in New York.
    assert not is_open(practice, utc(2026, 12, 8, 3, 0))


def test_naive_datetimes_are_refused(practice):
    with pytest.raises(ValueError, match="aware"):
        is_open(practice, dt.datetime(2026, 12, 7, 9, 0))  # noqa: DTZ001


def test_eight_am_is_eight_am_on_both_sides_of_each_dst_change(practice):
    # Before spring forward (EST, UTC-5) and after (EDT, UTC-4).
    assert is_open(practice, utc(2026, 3, 6, 13, 0))       # Fri 08:00 EST
    assert not is_open(practice, utc(2026, 3, 9, 11, 30))  # Mon 07:30 EDT
    assert is_open(practice, utc(2026, 3, 9, 12, 0))       # Mon 08:00 EDT
    # After fall back, 12:30 UTC is 07:30 EST: closed, though it was 08:30 the week before.
    assert is_open(practice, utc(2026, 10, 30, 12, 30))
    assert not is_open(practice, utc(2026, 11, 2, 12, 30))
    assert is_open(practice, utc(2026, 11, 2, 13, 0))


def test_spring_forward_day(practice):
    # Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT.
    OfficeHours.objects.create(practice=practice, weekday=6, opens=dt.time(1),
                               closes=dt.time(3))
    assert is_open(practice, utc(2026, 3, 8, 6, 59))       # 01:59 EST
    assert not is_open(practice, utc(2026, 3, 8, 7, 0))    # 03:00 EDT
    assert not is_open(practice, utc(2026, 3, 8, 5, 59))   # 00:59 EST


def test_fall_back_day_is_open_in_both_repeated_hours(practice):
    # Sunday 1 November 2026: 01:00–02:00 happens twice (EDT, then EST).
    OfficeHours.objects.create(practice=practice, weekday=6, opens=dt.time(1),
                               closes=dt.time(1, 30))
    assert is_open(practice, utc(2026, 11, 1, 5, 15))      # 01:15 EDT
    assert not is_open(practice, utc(2026, 11, 1, 5, 45))  # 01:45 EDT
    assert is_open(practice, utc(2026, 11, 1, 6, 15))      # 01:15 EST
    assert not is_open(practice, utc(2026, 11, 1, 6, 45))  # 01:45 EST


def test_next_open_across_the_weekend_lunch_and_dst(practice):
    assert next_open(practice, local(2026, 12, 7, 9, 0)) == local(2026, 12, 7, 9, 0)
    assert next_open(practice, local(2026, 12, 7, 12, 20)) == local(2026, 12, 7, 13, 0)
    assert next_open(practice, local(2026, 12, 5, 2, 10)) == local(2026, 12, 7, 8, 0)
    # Friday evening before spring forward: Monday 08:00 EDT, which is 12:00 UTC.
    opened = next_open(practice, local(2026, 3, 6, 18, 0))
    assert opened == utc(2026, 3, 9, 12, 0) and opened.utcoffset() == dt.timedelta(hours=-4)
    assert next_open(practice, local(2026, 10, 30, 18, 0)) == utc(2026, 11, 2, 13, 0)


def test_next_open_through_the_spring_forward_gap(practice):
    OfficeHours.objects.create(practice=practice, weekday=6, opens=dt.time(2, 30),
                               closes=dt.time(4))
    # 02:30 does not exist that night; the office opens when the clocks show 03:30 EDT.
    assert next_open(practice, local(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 7, 30)


def test_holidays_close_the_office_all_day(practice):
    Holiday.objects.create(practice=practice, date=dt.date(2026, 12, 25), name="Christmas")
    assert not is_open(practice, local(2026, 12, 25, 10, 0))
    assert is_open(practice, local(2026, 12, 24, 10, 0))
    assert next_open(practice, local(2026, 12, 24, 18, 0)) == local(2026, 12, 28, 8, 0)


def test_next_open_waits_a_week_for_a_once_a_week_office(practice):
    OfficeHours.objects.create(practice=practice, weekday=0, opens=dt.time(9),
                               closes=dt.time(10))
    assert next_open(practice, local(2026, 12, 7, 11, 0)) == local(2026, 12, 14, 9, 0)


def test_hours_are_per_practice(practice, other_practice):
    OfficeHours.objects.create(practice=other_practice, weekday=5, opens=dt.time(9),
                               closes=dt.time(12))
    assert is_open(other_practice, local(2026, 12, 5, 10, 0))
    assert not is_open(practice, local(2026, 12, 5, 10, 0))
    assert week(practice)[5] == []


# The page.

def test_any_member_sees_the_week_but_only_admins_get_the_forms(practice, agent, admin):
    page = signed_in(agent).get(url(practice))
    assert page.status_code == 200
    text = page.content.decode()
    assert "08:00–12:00" in text and "13:00–17:00" in text and "Remove" not in text
    page = admin.get(url(practice))
    assert page.status_code == 200 and "Add an interval" in page.content.decode()


@pytest.mark.parametrize("name", ["hours_add", "hours_remove", "holiday_add",
                                  "holiday_remove"])
def test_non_admins_cannot_change_hours(practice, agent, nurse, name):
    for user in (agent, nurse):
        assert signed_in(user).post(url(practice, name), {}).status_code == 404


def test_other_practices_admin_gets_404(practice, other_admin):
    assert signed_in(other_admin).get(url(practice)).status_code == 404


def test_admin_adds_an_interval_starting_from_the_defaults(practice, admin):
    reply = admin.post(url(practice, "hours_add"),
                       {"weekday": 5, "opens": "09:00", "closes": "12:00"})
    assert reply.status_code == 302
    hours = week(practice)
    assert hours[5] == [(dt.time(9), dt.time(12))]
    assert hours[0] == [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))]
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE)
    assert event.practice_id == practice.pk and "Saturday 09:00" in event.reason


def test_admin_removes_the_lunch_break_by_removing_and_adding(practice, admin):
    assert admin.post(url(practice, "hours_remove"),
                      {"weekday": 0, "opens": "08:00", "closes": "12:00"}).status_code == 302
    assert not is_open(practice, local(2026, 12, 7, 9, 0))
    assert is_open(practice, local(2026, 12, 8, 9, 0))   # Tuesday untouched
    assert AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).count() == 1


@pytest.mark.parametrize("data", [
    {"weekday": 0, "opens": "12:00", "closes": "09:00"},
    {"weekday": 0, "opens": "09:00", "closes": "09:00"},
    {"weekday": 0, "opens": "25:00", "closes": "26:00"},
    {"weekday": 7, "opens": "09:00", "closes": "10:00"},
    {"weekday": 0, "opens": "11:00", "closes": "14:00"},  # overlaps the defaults
    {},
])
def test_bad_intervals_are_400_with_a_message(practice, admin, data):
    reply = admin.post(url(practice, "hours_add"), data)
    assert reply.status_code == 400
    assert "errorlist" in reply.content.decode()
    assert not OfficeHours.objects.for_practice(practice).exists()
    assert not AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).exists()


def test_removing_an_interval_the_office_does_not_have_is_400(practice, admin):
    reply = admin.post(url(practice, "hours_remove"),
                       {"weekday": 5, "opens": "08:00", "closes": "12:00"})
    assert reply.status_code == 400
    assert not OfficeHours.objects.for_practice(practice).exists()


def test_admin_adds_and_removes_a_holiday(practice, admin):
    reply = admin.post(url(practice, "holiday_add"), {"date": "2026-12-25", "name": "Christmas"})
    assert reply.status_code == 302
    assert not is_open(practice, local(2026, 12, 25, 10, 0))
    assert "Christmas" in admin.get(url(practice)).content.decode()
    again = admin.post(url(practice, "holiday_add"), {"date": "2026-12-25", "name": "Again"})
    assert again.status_code == 400
    assert admin.post(url(practice, "holiday_add"), {"date": "soon", "name": "x"}
                      ).status_code == 400
    assert admin.post(url(practice, "holiday_remove"), {"date": "2026-12-25"}).status_code == 302
    assert is_open(practice, local(2026, 12, 25, 10, 0))
    assert admin.post(url(practice, "holiday_remove"), {"date": "2026-12-25"}).status_code == 400
    assert AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).count() == 2


def test_holiday_of_another_practice_cannot_be_removed(practice, other_practice, admin):
    Holiday.objects.create(practice=other_practice, date=dt.date(2026, 12, 25), name="X")
    assert admin.post(url(practice, "holiday_remove"), {"date": "2026-12-25"}).status_code == 400
    assert Holiday.objects.for_practice(other_practice).exists()
