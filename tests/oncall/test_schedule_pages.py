"""The on-call pages as Riverside's staff use them: the nurse reads the week, the practice
admin builds the schedule, and a calendar app reads its feed without logging in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.oncall.models import Override, Rotation, Schedule
from tests.conftest import make_member, signed_in
from tests.oncall.support import make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(practice):
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")


@pytest.fixture
def osei(practice):
    user = make_member(practice, Role.PROVIDER, "osei")
    user.first_name, user.last_name = "Amara", "Osei"
    user.save()
    return user


@pytest.fixture
def kim(practice):
    return make_member(practice, Role.PROVIDER, "kim")


@pytest.fixture
def after_hours(practice, osei, kim, nurse):
    return make_schedule(practice, [osei, kim], [nurse], starts_on=dt.date(2026, 12, 1))


def url(practice, name, schedule=None, **query):
    kwargs = {"practice": practice.slug}
    if schedule is not None:
        kwargs["schedule_id"] = schedule.pk
    path = reverse(f"oncall:{name}", kwargs=kwargs)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def actions(practice) -> list[str]:
    return list(AuditEvent.objects.filter(practice_id=practice.pk)
                .values_list("action", flat=True))


def test_the_nurse_reads_the_week_with_its_gap(practice, after_hours, nurse):
    response = signed_in(nurse).get(url(practice, "calendar", week="2026-11-30"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Amara Osei" in text and "nurse" in text and "Secondary" in text
    # Monday has nobody; Tuesday until the first hand-off at 08:00 neither.
    assert text.count('class="gap"') == 2
    assert "00:00–08:00" in text and "00:00–24:00" in text
    assert "New schedule" not in text  # the nurse reads; the admin edits


def test_a_bad_week_is_refused(practice, nurse):
    response = signed_in(nurse).get(url(practice, "calendar", week="2026-02-30"))
    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_the_nurse_cannot_open_or_change_a_schedule(practice, after_hours, nurse):
    client = signed_in(nurse)
    assert client.get(url(practice, "schedule", after_hours)).status_code == 404
    assert client.post(url(practice, "reviewed", after_hours)).status_code == 404
    assert client.post(url(practice, "schedule_new"), {"name": "Mine"}).status_code == 404


def test_another_practices_admin_gets_404(practice, after_hours, other_admin, other_practice):
    client = signed_in(other_admin)
    path = reverse("oncall:schedule", kwargs={"practice": other_practice.slug,
                                              "schedule_id": after_hours.pk})
    assert client.get(path).status_code == 404


def test_the_admin_makes_a_schedule_and_a_rotation_in_order(practice, admin, osei, kim):
    client = signed_in(admin)
    response = client.post(url(practice, "schedule_new"), {"name": "Weekend"})
    schedule = Schedule.objects.get(name="Weekend")
    assert response.status_code == 302
    response = client.post(url(practice, "rotation_add", schedule), {
        "level": "1", "kind": "daily", "handoff_time": "07:30", "starts_on": "2026-12-05",
        "participants": ["", str(kim.pk), str(osei.pk), ""]})
    assert response.status_code == 302
    rotation = Rotation.objects.get(layer__schedule=schedule)
    assert [m.user for m in rotation.members.all()] == [kim, osei]
    assert rotation.handoff_time == dt.time(7, 30) and rotation.shift_hours is None
    assert actions(practice) == [Action.ONCALL_CHANGE, Action.ONCALL_CHANGE]
    assert "kim, Amara Osei" in client.get(url(practice, "schedule", schedule)).content.decode()


@pytest.mark.parametrize("fields,message", [
    ({"kind": "custom"}, "Say how many hours a custom shift lasts."),
    ({"ends_on": "2026-12-01"}, "A rotation must end after the day it starts."),
    ({"participants": []}, "This field is required."),
    ({"participants": ["99999"]}, "Select a valid choice."),
    ({"starts_on": "9999-12-31"}, "Enter a date up to 2999-12-31."),
])
def test_a_bad_rotation_is_refused_with_a_message(practice, after_hours, admin, osei, fields,
                                                  message):
    data = {"level": "1", "kind": "weekly", "handoff_time": "08:00",
            "starts_on": "2026-12-07", "participants": [str(osei.pk)], **fields}
    response = signed_in(admin).post(url(practice, "rotation_add", after_hours), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Rotation.objects.filter(layer__schedule=after_hours).count() == 2


def test_the_admin_adds_and_removes_an_override(practice, after_hours, admin, osei, kim):
    client = signed_in(admin)
    bad = client.post(url(practice, "override_add", after_hours), {
        "level": "1", "kind": "replace", "member": kim.pk, "replaces": osei.pk,
        "starts_on": "2026-12-02", "starts_time": "18:00", "ends_on": "2026-12-02",
        "ends_time": "08:00"})
    assert bad.status_code == 400
    assert "The override must end after it starts." in bad.content.decode()
    response = client.post(url(practice, "override_add", after_hours), {
        "level": "1", "kind": "replace", "member": kim.pk, "replaces": osei.pk,
        "starts_on": "2026-12-02", "starts_time": "18:00", "ends_on": "2026-12-03",
        "ends_time": "08:00"})
    assert response.status_code == 302
    override = Override.objects.get(schedule=after_hours)
    assert override.starts_at == dt.datetime(2026, 12, 2, 23, tzinfo=dt.UTC)
    assert client.post(url(practice, "override_remove", after_hours),
                       {"id": "nope"}).status_code == 400
    assert client.post(url(practice, "override_remove", after_hours),
                       {"id": override.pk}).status_code == 302
    assert not Override.objects.exists()


def test_an_import_refuses_a_bad_file_and_takes_a_good_one(practice, after_hours, admin, kim):
    client = signed_in(admin)
    bad = client.post(url(practice, "import", after_hours), {
        "level": "2", "file": SimpleUploadedFile("oncall.ics", b"BEGIN:VCALENDAR\r\nnope\r\n")})
    assert bad.status_code == 400
    assert "Line 2: not a valid iCalendar content line." in bad.content.decode()
    start = (timezone.now() + dt.timedelta(days=3)).strftime("%Y%m%dT080000Z")
    end = (timezone.now() + dt.timedelta(days=4)).strftime("%Y%m%dT080000Z")
    good = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:kim\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    response = client.post(url(practice, "import", after_hours), {
        "level": "2", "file": SimpleUploadedFile("oncall.ics", good)})
    assert response.status_code == 302
    assert list(Override.objects.values_list("kind", "level", "member")) == [
        (Override.Kind.ADD, 2, kim.pk)]


def test_marking_reviewed_is_audited_and_a_stale_schedule_says_so(practice, after_hours,
                                                                  admin):
    client = signed_in(admin)
    reminder = "review quarterly or whenever the roster changes"
    assert reminder in client.get(url(practice, "calendar")).content.decode()
    assert client.post(url(practice, "reviewed", after_hours)).status_code == 302
    assert reminder not in client.get(url(practice, "calendar")).content.decode()
    assert actions(practice) == [Action.ONCALL_REVIEW]
    Schedule.objects.filter(pk=after_hours.pk).update(
        reviewed_at=timezone.now() - dt.timedelta(days=91))
    assert reminder in client.get(url(practice, "calendar")).content.decode()


def test_the_feed_needs_no_login_and_a_new_link_revokes_the_old(practice, after_hours, admin):
    client = signed_in(admin)
    first = client.post(url(practice, "feed_new", after_hours)).context["new_feed_url"]
    feed = Client().get(first.removeprefix("http://testserver"))
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert b"SUMMARY:Amara Osei on call (primary)" in feed.content
    second = client.post(url(practice, "feed_new", after_hours)).context["new_feed_url"]
    assert Client().get(first.removeprefix("http://testserver")).status_code == 404
    assert Client().get(second.removeprefix("http://testserver")).status_code == 200
    assert Client().get("/feeds/oncall/not-a-token.ics").status_code == 404


def test_any_member_makes_a_link_to_their_own_shifts(practice, after_hours, kim):
    response = signed_in(kim).post(url(practice, "my_feed_new"))
    assert response.status_code == 200
    feed = Client().get(response.context["new_feed_url"].removeprefix("http://testserver"))
    assert b"kim on call" in feed.content and b"Osei" not in feed.content
