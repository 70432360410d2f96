"""Building schedules for tests: Riverside's after-hours schedule, in New York time."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from clinicline.accounts.models import User
from clinicline.oncall.models import Layer, Rotation, RotationMember, Schedule
from clinicline.practices.models import Practice


def add_rotation(schedule: Schedule, level: int, members: list[User], *,
                 kind: str = Rotation.Kind.WEEKLY, starts_on: dt.date = dt.date(2026, 11, 30),
                 handoff: dt.time = dt.time(8, 0), ends_on: dt.date | None = None,
                 shift_hours: int | None = None) -> Rotation:
    layer, _ = Layer.objects.get_or_create(schedule=schedule, level=level)
    rotation = Rotation.objects.create(layer=layer, kind=kind, handoff_time=handoff,
                                       starts_on=starts_on, ends_on=ends_on,
                                       shift_hours=shift_hours)
    RotationMember.objects.bulk_create(RotationMember(rotation=rotation, user=user, position=n)
                                       for n, user in enumerate(members))
    return rotation


def make_schedule(practice: Practice, primary: list[User], secondary: list[User] = (),
                  name: str = "After hours", **rotation) -> Schedule:
    schedule = Schedule.objects.create(practice=practice, name=name)
    add_rotation(schedule, 1, primary, **rotation)
    if secondary:
        add_rotation(schedule, 2, list(secondary), **rotation)
    return schedule


def local(*args: int, zone: str = "America/New_York") -> dt.datetime:
    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))
