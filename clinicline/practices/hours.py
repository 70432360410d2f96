"""Office hours: is the practice open at a moment, and when does it next open?

Moments are aware datetimes (UTC in storage, DESIGN invariant 9); hours and holidays are
wall-clock times and dates in the practice's own zone, so each question converts the moment
to local time first. That is what keeps DST honest: 08:00 is 08:00 on both sides of a change.
"""

from __future__ import annotations

import datetime as dt

from clinicline.practices.models import Holiday, OfficeHours, Practice

Interval = tuple[dt.time, dt.time]
Week = dict[int, list[Interval]]

# A practice that has set no hours: weekdays 08:00–12:00 and 13:00–17:00.
DEFAULT_INTERVALS: list[Interval] = [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))]
DEFAULT_WEEK: Week = {day: (list(DEFAULT_INTERVALS) if day < 5 else []) for day in range(7)}

# How far ahead ``next_open`` looks before deciding the office never opens.
HORIZON_DAYS = 400


def week(practice: Practice) -> Week:
    """The practice's intervals per weekday (0 = Monday), sorted; the defaults if none."""
    rows = list(OfficeHours.objects.for_practice(practice).order_by("weekday", "opens"))
    if not rows:
        return {day: list(intervals) for day, intervals in DEFAULT_WEEK.items()}
    result: Week = {day: [] for day in range(7)}
    for row in rows:
        result[row.weekday].append((row.opens, row.closes))
    return result


def uses_defaults(practice: Practice) -> bool:
    return not OfficeHours.objects.for_practice(practice).exists()


def _local(practice: Practice, at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("office hours need an aware datetime")
    return at.astimezone(practice.tz)


def _holidays(practice: Practice, start: dt.date, end: dt.date) -> set[dt.date]:
    return set(Holiday.objects.for_practice(practice)
               .filter(date__gte=start, date__lte=end).values_list("date", flat=True))


def is_open(practice: Practice, at: dt.datetime) -> bool:
    """Whether the office is open at the moment ``at`` (aware), in the practice's zone."""
    local = _local(practice, at)
    if _holidays(practice, local.date(), local.date()):
        return False
    now = local.time()
    return any(opens <= now < closes for opens, closes in week(practice)[local.weekday()])


def next_open(practice: Practice, at: dt.datetime) -> dt.datetime | None:
    """The first moment at or after ``at`` when the office is open, in the practice's zone
    (``at`` itself if open now); None if it never opens within the horizon."""
    local = _local(practice, at)
    tz = practice.tz
    hours = week(practice)
    if not any(hours.values()):
        return None
    closed = _holidays(practice, local.date(), local.date() + dt.timedelta(days=HORIZON_DAYS))
    for offset in range(HORIZON_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        if day in closed:
            continue
        for opens, closes in hours[day.weekday()]:
            if offset == 0 and opens <= local.time() < closes:
                return local
            # Round-tripping through UTC normalises a wall time that the spring-forward
            # gap skips (02:30 becomes 03:30) to the moment the clocks actually show.
            start = dt.datetime.combine(day, opens, tzinfo=tz).astimezone(dt.UTC).astimezone(tz)
            if start >= local:
                return start
    return None
