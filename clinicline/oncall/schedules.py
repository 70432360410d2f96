"""Who is on call: shifts from rotations, with overrides applied. Pure functions of the
schedule's rows and an instant passed in (``at``): no clock is read here.

Wall-clock rule. A rotation hands off at its ``handoff_time`` in the schedule's zone, every
shift step of wall-clock time from ``starts_on`` (a daily 08:00 hand-off is at 08:00 local
every day, so the shift across a DST change lasts 23 or 25 hours). A local time that does
not exist (the spring-forward hour) becomes the instant the clocks jump to: 02:30 on a
spring-forward day is 03:00. A local time that happens twice (the fall-back hour) is its
first occurrence. Two hand-offs that land on the same instant (an hourly rotation's 02:00
shift on a spring-forward day) make a shift of no length, which is dropped: that turn is
skipped and the order carries on.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from django.db import transaction

from clinicline.accounts.models import User
from clinicline.oncall.models import Layer, Override, Rotation, Schedule
from clinicline.oncall.models.schedules import PRIMARY
from clinicline.practices.models import Practice

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
INSTANT = dt.timedelta(microseconds=1)  # a window that holds only its start
LOOKAHEAD = dt.timedelta(days=62)  # how far next_on_call looks for the next hand-off


@dataclass(frozen=True)
class Shift:
    """One member on call at one level, from ``starts_at`` up to ``ends_at`` (UTC)."""

    member: User
    level: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class NextOnCall(NamedTuple):
    at: dt.datetime
    members: list[User]  # everyone on call from ``at``, primary first
    incoming: list[User]  # those of them not on call just before


# --- wall-clock time ------------------------------------------------------------------------

def to_utc(wall: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant a clock in ``tz`` shows ``wall`` (naive): its first occurrence on
    fall-back; in a spring-forward gap, the instant the gap ends (02:30 becomes 03:00)."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In the gap, fold=1 reads the wall with the later offset (an instant before the jump)
    # and fold=0 with the earlier one (after it); the jump is the first second between
    # them whose wall time is at or past ``wall``.
    lo = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, UTC)


def local_wall(at: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return at.astimezone(tz).replace(tzinfo=None)


# --- rotations ------------------------------------------------------------------------------

def _origin(rotation: Rotation) -> dt.datetime:
    return dt.datetime.combine(rotation.starts_on, rotation.handoff_time)


def rotation_window(rotation: Rotation, tz: zoneinfo.ZoneInfo,
                    ) -> tuple[dt.datetime, dt.datetime | None]:
    """When the rotation runs: from its first hand-off to the hand-off time on ``ends_on``."""
    end = (to_utc(dt.datetime.combine(rotation.ends_on, rotation.handoff_time), tz)
           if rotation.ends_on else None)
    return to_utc(_origin(rotation), tz), end


def rotation_shifts(rotation: Rotation, members: list[User], level: int,
                    tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime,
                    ) -> Iterator[Shift]:
    """The rotation's shifts that overlap [start, end), whole (not clipped)."""
    if not members:
        return
    origin, step = _origin(rotation), rotation.step
    first_end, stop = rotation_window(rotation, tz)
    # The first shift that may reach ``start``: a day early, for the widest DST change.
    k = max(0, (local_wall(start, tz) - origin - dt.timedelta(days=1)) // step)
    begins = to_utc(origin + k * step, tz)
    while begins < end and (stop is None or begins < stop):
        ends = to_utc(origin + (k + 1) * step, tz)
        if stop is not None:
            ends = min(ends, stop)
        if ends > start and ends > begins:
            yield Shift(members[k % len(members)], level, begins, ends)
        k, begins = k + 1, ends


def _participants(rotation: Rotation) -> list[User]:
    return [m.user for m in rotation.members.all()]


def _carve(shifts: list[Shift], start: dt.datetime, end: dt.datetime | None,
           keep: bool = False) -> list[Shift]:
    """The parts of ``shifts`` outside [start, end) (inside it, when ``keep``)."""
    out = []
    for shift in shifts:
        inner_start = max(shift.starts_at, start)
        inner_end = shift.ends_at if end is None else min(shift.ends_at, end)
        if inner_start >= inner_end:  # no overlap
            if not keep:
                out.append(shift)
            continue
        if keep:
            out.append(replace(shift, starts_at=inner_start, ends_at=inner_end))
            continue
        if shift.starts_at < inner_start:
            out.append(replace(shift, ends_at=inner_start))
        if inner_end < shift.ends_at:
            out.append(replace(shift, starts_at=inner_end))
    return out


def layer_shifts(layer: Layer, tz: zoneinfo.ZoneInfo, start: dt.datetime,
                 end: dt.datetime) -> list[Shift]:
    """A layer's shifts from its rotations; a rotation that starts later takes over from
    the earlier ones for as long as it runs."""
    shifts: list[Shift] = []
    for rotation in layer.rotations.all():  # by starts_on, then pk
        begins, stops = rotation_window(rotation, tz)
        shifts = _carve(shifts, begins, stops)
        shifts += rotation_shifts(rotation, _participants(rotation), layer.level, tz,
                                  start, end)
    return shifts


# --- overrides ------------------------------------------------------------------------------

def _apply(shifts: list[Shift], override: Override) -> list[Shift]:
    level, member = override.level, override.member
    window = (override.starts_at, override.ends_at)
    if override.kind == Override.Kind.ADD:
        return [*shifts, Shift(member, level, *window)]
    if override.kind == Override.Kind.REMOVE:
        hit = [s for s in shifts if s.level == level and s.member == member]
        return [s for s in shifts if s not in hit] + _carve(hit, *window)
    replaced = [s for s in shifts if s.level == level
                and (override.replaces_id is None or s.member.pk == override.replaces_id)]
    rest = [s for s in shifts if s not in replaced]
    taken = [replace(s, member=member) for s in _carve(replaced, *window, keep=True)]
    return rest + _carve(replaced, *window) + taken


def _overrides(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Override]:
    return list(schedule.overrides.filter(starts_at__lt=end, ends_at__gt=start)
                .select_related("member").order_by("pk"))


def _joined(found: list[Shift]) -> list[Shift]:
    """Back-to-back shifts of one member at one level as one (a rotation of one person)."""
    out: list[Shift] = []
    for shift in sorted(found, key=lambda s: (s.level, s.member.pk, s.starts_at)):
        last = out[-1] if out else None
        if (last and last.level == shift.level and last.member == shift.member
                and last.ends_at >= shift.starts_at):
            out[-1] = replace(last, ends_at=max(last.ends_at, shift.ends_at))
        else:
            out.append(shift)
    return out


def shifts(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """Every shift of the schedule in [start, end), overrides applied, clipped to the
    window, by level and then start; a member's back-to-back shifts at a level are one."""
    tz, start, end = schedule.tz, start.astimezone(UTC), end.astimezone(UTC)
    raw: list[Shift] = []
    for layer in schedule.layers.prefetch_related("rotations__members__user"):
        raw += layer_shifts(layer, tz, start, end)
    for override in _overrides(schedule, start, end):
        raw = _apply(raw, override)
    clipped = _joined(_carve(raw, start, end, keep=True))
    return sorted(clipped, key=lambda s: (s.level, s.starts_at, s.member.pk))


def _members(found: Iterable[Shift]) -> list[User]:
    """Members by level, each once, in the order they first appear."""
    seen: dict[int, User] = {}
    for shift in sorted(found, key=lambda s: (s.level, s.starts_at, s.member.pk)):
        seen.setdefault(shift.member.pk, shift.member)
    return list(seen.values())


def on_call(schedule: Schedule, at: dt.datetime) -> list[User]:
    """Who is on call at ``at``: the primary first, then the secondary, and so on."""
    return _members(shifts(schedule, at, at + INSTANT))


def practice_schedules(practice: Practice) -> list[Schedule]:
    return list(Schedule.objects.for_practice(practice).select_related("practice")
                .order_by("name"))


def on_call_for_practice(practice: Practice, at: dt.datetime) -> list[User]:
    """Who is on call at ``at`` across the practice's schedules, primaries first."""
    found = [s for schedule in practice_schedules(practice)
             for s in shifts(schedule, at, at + INSTANT)]
    return _members(found)


def next_on_call(schedule: Schedule, at: dt.datetime) -> NextOnCall | None:
    """The next change of who is on call after ``at``, or None within LOOKAHEAD."""
    window = shifts(schedule, at, at + LOOKAHEAD)
    now = _members(s for s in window if s.starts_at <= at < s.ends_at)
    for moment in sorted({t for s in window for t in (s.starts_at, s.ends_at) if t > at}):
        then = _members(s for s in window if s.starts_at <= moment < s.ends_at)
        if [u.pk for u in then] != [u.pk for u in now]:
            return NextOnCall(moment, then, [u for u in then if u not in now])
    return None


# --- gaps -----------------------------------------------------------------------------------

def uncovered(spans: Iterable[tuple[dt.datetime, dt.datetime]], start: dt.datetime,
              end: dt.datetime, at_least: dt.timedelta = MINUTE,
              ) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end) no span covers, of ``at_least`` or more."""
    gaps, reached = [], start
    for begins, ends in sorted(spans):
        if begins > reached:
            gaps.append((reached, min(begins, end)))
        reached = max(reached, ends)
        if reached >= end:
            break
    if reached < end:
        gaps.append((reached, end))
    return [(a, b) for a, b in gaps if b - a >= at_least]


def gaps(subject: Schedule | Practice, start: dt.datetime, end: dt.datetime,
         ) -> list[tuple[dt.datetime, dt.datetime]]:
    """When nobody is the primary, for a minute or more: in one schedule, or in all of a
    practice's (a practice is covered while any of its schedules has a primary)."""
    schedules = [subject] if isinstance(subject, Schedule) else practice_schedules(subject)
    spans = [(s.starts_at, s.ends_at) for schedule in schedules
             for s in shifts(schedule, start, end) if s.level == PRIMARY]
    return uncovered(spans, start, end)


# --- changes --------------------------------------------------------------------------------

@transaction.atomic
def swap(schedule: Schedule, first: Shift, second: Shift, by: User | None = None,
         ) -> tuple[Override, Override]:
    """Two members trade shifts: each takes the other's, as a pair of replace overrides."""
    return (
        Override.objects.create(schedule=schedule, level=first.level,
                                kind=Override.Kind.REPLACE, member=second.member,
                                replaces=first.member, starts_at=first.starts_at,
                                ends_at=first.ends_at, created_by=by),
        Override.objects.create(schedule=schedule, level=second.level,
                                kind=Override.Kind.REPLACE, member=first.member,
                                replaces=second.member, starts_at=second.starts_at,
                                ends_at=second.ends_at, created_by=by),
    )
