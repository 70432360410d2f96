"""The on-call week and a schedule's page on a phone and on a laptop: photographed
(var/screenshots/) and failing if anything runs off the side of the screen. The week has
long names, two schedules, a secondary, an override and a gap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.oncall.models import Override, Rotation
from tests.conftest import make_member, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check
from tests.oncall.support import make_schedule


def staff(practice):
    people = []
    for username, first, last in [("osei", "Amara", "Osei-Featherstonehaugh"),
                                  ("ferreira", "Luis", "Ferreira"), ("kim", "Hannah", "Kim"),
                                  ("nurse", "Morgan", "Adeyemi")]:
        user = make_member(practice, Role.PROVIDER if username != "nurse" else Role.NURSE,
                           username)
        user.first_name, user.last_name = first, last
        user.save()
        people.append(user)
    return people


@pytest.mark.django_db(transaction=True)
def test_the_oncall_week_and_a_schedule_fit_a_phone_and_a_laptop(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    osei, ferreira, kim, nurse = staff(practice)
    today = timezone.now().astimezone(practice.tz).date()
    monday = today - dt.timedelta(days=today.weekday())
    # The rotation starts on Wednesday: Monday and Tuesday show as gaps.
    after_hours = make_schedule(practice, [osei, kim], [nurse], kind=Rotation.Kind.DAILY,
                                starts_on=monday + dt.timedelta(days=2))
    make_schedule(practice, [ferreira], name="Obstetrics weekend", kind=Rotation.Kind.WEEKLY,
                  starts_on=monday + dt.timedelta(days=5), handoff=dt.time(18, 0))
    noon = dt.datetime.combine(monday + dt.timedelta(days=3), dt.time(12), tzinfo=practice.tz)
    Override.objects.create(schedule=after_hours, kind=Override.Kind.REPLACE, member=ferreira,
                            replaces=kim, starts_at=noon, ends_at=noon + dt.timedelta(hours=6))

    page = open_page()
    log_in(page, live_server.url, admin)
    home = f"{live_server.url}/p/{practice.slug}/oncall/schedules/"
    page.goto(home)
    assert page.locator(".oncall-day").count() == 7
    assert page.locator(".oncall-day li.gap").count() >= 2
    problems = check(page, "oncall-week")
    page.goto(f"{home}{after_hours.pk}/")
    problems += check(page, "oncall-schedule")
    assert problems == []
