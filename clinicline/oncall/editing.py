"""Changes to a schedule, each audited beside the change (who, which row; never a patient)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest

from clinicline.accounts.models import User
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.oncall.ical import Imported
from clinicline.oncall.models import Layer, Override, Rotation, RotationMember, Schedule
from clinicline.practices.models import Practice

REVIEW_EVERY = dt.timedelta(days=90)


def needs_review(schedule: Schedule, at: dt.datetime) -> bool:
    """Review quarterly, or whenever the roster changes (a change clears the review)."""
    return schedule.reviewed_at is None or at - schedule.reviewed_at > REVIEW_EVERY


def _changed(schedule: Schedule, request: HttpRequest | None, by: User, obj: object,
             reason: str) -> None:
    """Audit the change; the roster changed, so the schedule wants a review again."""
    schedule.reviewed_at = schedule.reviewed_by = None
    schedule.save(update_fields=["reviewed_at", "reviewed_by"])
    record(Action.ONCALL_CHANGE, request=request, actor=by, practice=schedule.practice_id,
           obj=obj if isinstance(obj, Schedule | Rotation | Override) else schedule,
           reason=reason)


@transaction.atomic
def create_schedule(practice: Practice, name: str, by: User,
                    request: HttpRequest | None = None) -> Schedule:
    schedule = Schedule.objects.create(practice=practice, name=name)
    _changed(schedule, request, by, schedule, "created the schedule")
    return schedule


@transaction.atomic
def add_rotation(schedule: Schedule, level: int, members: list[User], *, kind: str,
                 handoff_time: dt.time, starts_on: dt.date, ends_on: dt.date | None,
                 shift_hours: int | None, by: User,
                 request: HttpRequest | None = None) -> Rotation:
    layer, _ = Layer.objects.get_or_create(schedule=schedule, level=level)
    rotation = Rotation.objects.create(
        layer=layer, kind=kind, handoff_time=handoff_time, starts_on=starts_on,
        ends_on=ends_on, shift_hours=shift_hours if kind == Rotation.Kind.CUSTOM else None)
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, user=user, position=n) for n, user in enumerate(members))
    _changed(schedule, request, by, rotation, f"added a level {level} rotation")
    return rotation


@transaction.atomic
def remove(schedule: Schedule, row: Rotation | Override, by: User,
           request: HttpRequest | None = None) -> None:
    """Remove one of the schedule's rotations or overrides."""
    what = "a rotation" if isinstance(row, Rotation) else "an override"
    _changed(schedule, request, by, row, f"removed {what}")
    row.delete()


@transaction.atomic
def add_override(schedule: Schedule, *, level: int, kind: str, member: User,
                 replaces: User | None, starts_at: dt.datetime, ends_at: dt.datetime,
                 by: User, request: HttpRequest | None = None) -> Override:
    override = Override.objects.create(schedule=schedule, level=level, kind=kind,
                                       member=member, replaces=replaces, starts_at=starts_at,
                                       ends_at=ends_at, created_by=by)
    _changed(schedule, request, by, override, f"added a {kind} override")
    return override


@transaction.atomic
def import_shifts(schedule: Schedule, level: int, shifts: Iterable[Imported], by: User,
                  request: HttpRequest | None = None) -> int:
    """The shifts as ``add`` overrides at ``level``; how many."""
    made = Override.objects.bulk_create(
        Override(schedule=schedule, level=level, kind=Override.Kind.ADD, member=s.member,
                 starts_at=s.starts_at, ends_at=s.ends_at, created_by=by) for s in shifts)
    _changed(schedule, request, by, schedule, f"imported {len(made)} shifts from .ics")
    return len(made)


@transaction.atomic
def mark_reviewed(schedule: Schedule, by: User, at: dt.datetime,
                  request: HttpRequest | None = None) -> None:
    schedule.reviewed_at, schedule.reviewed_by = at, by
    schedule.save(update_fields=["reviewed_at", "reviewed_by"])
    record(Action.ONCALL_REVIEW, request=request, actor=by, practice=schedule.practice_id,
           obj=schedule)
