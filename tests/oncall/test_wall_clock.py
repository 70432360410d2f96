"""Rotations hand off at wall-clock times, through every DST change of 2026–2028 in the US
and Canadian zones: the shifts meet end to end (each instant has exactly one primary), and
each hand-off is at its local time, or, when that time does not exist on a spring-forward
day, at the instant the clocks jump (02:30 becomes 03:00); on fall-back, the first 01:30.

No database: rotations and members are built in memory and fed to ``rotation_shifts``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clinicline.accounts.models import User
from clinicline.oncall.models import Rotation
from clinicline.oncall.schedules import local_wall, rotation_shifts, to_utc

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "America/Phoenix", "America/St_Johns", "America/Halifax", "America/Regina"]
UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)

# Hand-offs in the night hours that DST changes, and at any minute of the day.
night = st.builds(dt.time, st.integers(1, 2), st.integers(0, 59)) | st.just(dt.time(3, 0))
any_time = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))
kinds = st.sampled_from(list(Rotation.Kind))


def oracle(wall: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant of ``wall``, found another way: the earliest reading of it, or else the
    first minute after the jump that skipped it."""
    readings = {wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)}
    valid = sorted(u for u in readings if local_wall(u, tz) == wall)
    if valid:
        return valid[0]
    minute = min(readings).replace(second=0)
    while local_wall(minute, tz) < wall:
        minute += dt.timedelta(minutes=1)
    return minute


def jumps_at(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    return tz.utcoffset(local_wall(instant - SECOND, tz)) != instant.astimezone(tz).utcoffset()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(zone=st.sampled_from(ZONES), kind=kinds, hours=st.integers(1, 24 * 9),
       handoff=night | any_time, people=st.integers(1, 5),
       starts_on=st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 20)))
def test_shifts_meet_end_to_end_and_hand_off_at_wall_clock_time(zone, kind, hours, handoff,
                                                                people, starts_on):
    tz = zoneinfo.ZoneInfo(zone)
    rotation = Rotation(kind=kind, shift_hours=hours if kind == Rotation.Kind.CUSTOM else None,
                        handoff_time=handoff, starts_on=starts_on)
    members = [User(pk=n + 1, username=f"member-{n}") for n in range(people)]
    start = dt.datetime(2026, 1, 1, tzinfo=tz).astimezone(UTC)
    end = dt.datetime(2029, 1, 1, tzinfo=tz).astimezone(UTC)
    found = list(rotation_shifts(rotation, members, 1, tz, start, end))

    # Covered from before the window to after it, end to end: no gap, no overlap.
    assert found[0].starts_at <= start and found[-1].ends_at >= end
    for before, after in zip(found, found[1:], strict=False):
        assert before.ends_at == after.starts_at, (before, after)
        assert before.starts_at < before.ends_at
        assert before.starts_at.utcoffset() == dt.timedelta(0)

    # Each hand-off is the nominal wall time's instant, found independently, and a turn is
    # skipped only where two hand-offs fall on one instant (spring-forward, short shifts).
    origin = dt.datetime.combine(starts_on, handoff)
    k = 0
    while to_utc(origin + (k + 1) * rotation.step, tz) <= found[0].starts_at:
        k += 1
    for shift in found:
        while oracle(origin + (k + 1) * rotation.step, tz) <= shift.starts_at:
            k += 1
        assert shift.starts_at == oracle(origin + k * rotation.step, tz)
        assert shift.member == members[k % people]
        k += 1

    # Daily and weekly: the local time of day is the hand-off time, or the hand-off is the
    # jump that skipped it; on fall-back, the first of the two.
    if kind in (Rotation.Kind.DAILY, Rotation.Kind.WEEKLY):
        for shift in found:
            local = shift.starts_at.astimezone(tz)
            assert local.fold == 0
            if local.time() != handoff:
                assert jumps_at(shift.starts_at, tz), local
                assert local_wall(shift.starts_at - SECOND, tz).time() < handoff < local.time()


def test_the_spring_forward_rule_and_the_fall_back_rule():
    tz = zoneinfo.ZoneInfo("America/New_York")
    assert to_utc(dt.datetime(2026, 3, 8, 2, 30), tz).astimezone(tz).time() == dt.time(3, 0)
    fall_back = to_utc(dt.datetime(2026, 11, 1, 1, 30), tz)
    assert fall_back == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    st_johns = zoneinfo.ZoneInfo("America/St_Johns")
    assert (to_utc(dt.datetime(2027, 3, 14, 2, 15), st_johns).astimezone(st_johns).time()
            == dt.time(3, 0))


def test_a_daily_handoff_makes_23_and_25_hour_shifts_across_dst():
    tz = zoneinfo.ZoneInfo("America/Chicago")
    rotation = Rotation(kind=Rotation.Kind.DAILY, handoff_time=dt.time(8, 0),
                        starts_on=dt.date(2026, 1, 1))
    members = [User(pk=1, username="osei"), User(pk=2, username="kim")]

    def lengths(day: dt.date) -> list[float]:
        start = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
        found = rotation_shifts(rotation, members, 1, tz, start, start + dt.timedelta(hours=1))
        return [(s.ends_at - s.starts_at).total_seconds() / 3600 for s in found]

    assert lengths(dt.date(2026, 3, 7)) == [23.0]   # Sat 08:00 to Sun 08:00 CDT
    assert lengths(dt.date(2026, 10, 31)) == [25.0]
    assert lengths(dt.date(2026, 7, 1)) == [24.0]
