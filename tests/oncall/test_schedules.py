"""Who is on call at Riverside: weekly provider rotations handing off Monday 08:00 New York
time, a nurse as the backup, and the overrides a real week brings."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline.accounts.roles import Role
from clinicline.oncall.models import Override, Rotation
from clinicline.oncall.schedules import (
    gaps,
    next_on_call,
    on_call,
    on_call_for_practice,
    shifts,
    swap,
)
from tests.conftest import make_member
from tests.oncall.support import add_rotation, local, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def osei(practice):
    return make_member(practice, Role.PROVIDER, "osei")


@pytest.fixture
def kim(practice):
    return make_member(practice, Role.PROVIDER, "kim")


@pytest.fixture
def ferreira(practice):
    return make_member(practice, Role.PROVIDER, "ferreira")


@pytest.fixture
def after_hours(practice, osei, kim, nurse):
    """Osei from Monday Nov 30, Kim from Dec 7, and so on; the nurse backs them up."""
    return make_schedule(practice, [osei, kim], [nurse])


def override(schedule, kind, member, starts_at, ends_at, level=1, replaces=None):
    return Override.objects.create(schedule=schedule, kind=kind, member=member, level=level,
                                   replaces=replaces, starts_at=starts_at, ends_at=ends_at)


def test_the_weekly_rotation_hands_off_monday_at_eight(after_hours, osei, kim, nurse):
    assert on_call(after_hours, local(2026, 11, 30, 9)) == [osei, nurse]
    assert on_call(after_hours, local(2026, 12, 7, 7, 59)) == [osei, nurse]
    assert on_call(after_hours, local(2026, 12, 7, 8)) == [kim, nurse]
    assert on_call(after_hours, local(2026, 12, 14, 8)) == [osei, nurse]


def test_nobody_is_on_call_before_the_rotation_starts(after_hours):
    assert on_call(after_hours, local(2026, 11, 30, 7)) == []
    assert on_call(after_hours, local(2026, 11, 30, 7, 59, 59, 999999)) == []


def test_a_replace_override_covers_one_night(after_hours, osei, ferreira, nurse):
    override(after_hours, Override.Kind.REPLACE, ferreira, local(2026, 12, 1, 18),
             local(2026, 12, 2, 8), replaces=osei)
    assert on_call(after_hours, local(2026, 12, 1, 20)) == [ferreira, nurse]
    assert on_call(after_hours, local(2026, 12, 2, 8)) == [osei, nurse]


def test_add_and_remove_overrides(after_hours, osei, ferreira, nurse):
    override(after_hours, Override.Kind.ADD, ferreira, local(2026, 12, 3, 0),
             local(2026, 12, 4, 0), level=2)
    override(after_hours, Override.Kind.REMOVE, osei, local(2026, 12, 5, 0),
             local(2026, 12, 5, 12))
    assert on_call(after_hours, local(2026, 12, 3, 10)) == [osei, nurse, ferreira]
    assert on_call(after_hours, local(2026, 12, 5, 10)) == [nurse]
    assert gaps(after_hours, local(2026, 12, 1), local(2026, 12, 7)) == [
        (local(2026, 12, 5, 0), local(2026, 12, 5, 12))]


def test_a_swap_trades_two_shifts(after_hours, osei, kim, nurse):
    week_one, week_two = [s for s in shifts(after_hours, local(2026, 11, 30, 8),
                                             local(2026, 12, 14, 8)) if s.level == 1]
    swap(after_hours, week_one, week_two)
    assert on_call(after_hours, local(2026, 12, 2, 12)) == [kim, nurse]
    assert on_call(after_hours, local(2026, 12, 9, 12)) == [osei, nurse]
    assert on_call(after_hours, local(2026, 12, 16, 12)) == [osei, nurse]


def test_shifts_are_utc_clipped_to_the_window_and_by_level(after_hours, osei, kim, nurse):
    found = shifts(after_hours, local(2026, 12, 6), local(2026, 12, 8))
    assert [(s.member, s.level) for s in found] == [(osei, 1), (kim, 1), (nurse, 2)]
    assert found[0].starts_at == local(2026, 12, 6) and found[1].ends_at == local(2026, 12, 8)
    assert all(s.starts_at.utcoffset() == dt.timedelta(0) for s in found)


def test_gaps_before_a_rotation_and_a_practice_covered_by_another_schedule(
        practice, after_hours, ferreira):
    window = (local(2026, 11, 30), local(2026, 12, 1))
    assert gaps(after_hours, *window) == [(local(2026, 11, 30), local(2026, 11, 30, 8))]
    make_schedule(practice, [ferreira], name="Overnight", kind=Rotation.Kind.DAILY,
                  starts_on=dt.date(2026, 11, 29), handoff=dt.time(0, 0))
    assert gaps(practice, *window) == []
    assert on_call_for_practice(practice, local(2026, 11, 30, 7)) == [ferreira]


def test_a_gap_under_a_minute_is_not_reported(after_hours, osei):
    override(after_hours, Override.Kind.REMOVE, osei, local(2026, 12, 2, 3),
             local(2026, 12, 2, 3, 0, 59))
    assert gaps(after_hours, local(2026, 12, 2), local(2026, 12, 3)) == []


def test_a_temporary_rotation_takes_over_and_the_standing_one_resumes(after_hours, osei, kim,
                                                                     ferreira):
    add_rotation(after_hours, 1, [ferreira], kind=Rotation.Kind.DAILY,
                 starts_on=dt.date(2026, 12, 24), ends_on=dt.date(2026, 12, 26))
    assert on_call(after_hours, local(2026, 12, 24, 7))[0] == kim
    assert on_call(after_hours, local(2026, 12, 25, 20))[0] == ferreira
    assert on_call(after_hours, local(2026, 12, 26, 8))[0] == kim
    assert on_call(after_hours, local(2026, 12, 28, 8))[0] == osei


def test_next_on_call_says_who_comes_on_and_when(after_hours, kim, nurse):
    upcoming = next_on_call(after_hours, local(2026, 12, 1, 12))
    assert upcoming is not None
    assert upcoming.at == local(2026, 12, 7, 8)
    assert upcoming.members == [kim, nurse] and upcoming.incoming == [kim]


def test_a_schedule_keeps_its_own_zone(practice, osei):
    schedule = make_schedule(practice, [osei], name="Denver clinic",
                             kind=Rotation.Kind.DAILY)
    schedule.time_zone = "America/Denver"
    schedule.save()
    assert on_call(schedule, local(2026, 11, 30, 9)) == []  # 07:00 in Denver
    assert on_call(schedule, local(2026, 11, 30, 10)) == [osei]
