"""The week calendar's contents: for each local day of a practice's week, who is on call in
each schedule (by schedule, then primary before secondary, then time) and when nobody is
the primary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clinicline.oncall.models import Schedule
from clinicline.oncall.schedules import Shift, gaps, practice_schedules, shifts, to_utc
from clinicline.practices.models import Practice


@dataclass
class Day:
    date: dt.date
    rows: list[tuple[Schedule, Shift]] = field(default_factory=list)
    gaps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    today: bool = False


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week(practice: Practice, monday: dt.date, today: dt.date) -> list[Day]:
    """Seven days from ``monday``, each cut at the practice's local midnights."""
    tz, schedules = practice.tz, practice_schedules(practice)
    days = []
    for n in range(7):
        date = monday + dt.timedelta(days=n)
        start = to_utc(dt.datetime.combine(date, dt.time(0)), tz)
        end = to_utc(dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0)), tz)
        rows = [(schedule, shift) for schedule in schedules
                for shift in shifts(schedule, start, end)]
        rows.sort(key=lambda row: (row[0].name, row[1].level, row[1].starts_at))
        days.append(Day(date, rows, gaps(practice, start, end), date == today))
    return days
