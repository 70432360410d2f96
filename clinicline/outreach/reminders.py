"""Reminders: when each is due, the job that sends what is due, and reminder runs.

A ``Reminder`` row is made for every appointment and offset of the practice's policy (7
and 2 days before by default) when the appointment is imported or moved. The worker's
``send_due`` claims the rows ``due_reminders`` names and hands each to ``send_reminder``:
the one place a reminder becomes a text, or a recorded reason it did not, by way of the
sending decision (``decisions.send``: consent, quiet hours, caps, the PHI guard).

Late reminders: a reminder whose time has already passed when it is made is not sent late,
except the latest of them, sent at once, when the appointment is still 24 hours or more
away (a week's reminder for an appointment booked three days ahead is still worth sending;
two at once, or one the night before, are not). A reminder is never sent once its
appointment has begun.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinicline import claims
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.outreach import decisions
from clinicline.outreach.appointment_models import (
    DEFAULT_OFFSETS_H,
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderPolicy,
    ReminderRun,
    ReminderStatus,
    RunState,
)
from clinicline.outreach.decision_models import SendDecision
from clinicline.outreach.kinds import Purpose, Reason
from clinicline.outreach.templates import Values
from clinicline.practices.models import Practice, Provider
from clinicline.rows import insert_many, update_many

log = logging.getLogger("clinicline.outreach")

LATE_FLOOR = dt.timedelta(hours=24)  # a late reminder still goes out this far ahead
LEASE = dt.timedelta(minutes=5)      # a claim a dead worker left is taken again after this
# A batch is decided together (see decide_due), so a larger one costs less a reminder (what
# each batch reads once, its queries made and its commit): 500 decided some 10% faster than
# 200 on bench/reminders.py. It holds SQLite's write lock for about half a second, which a
# webhook's write waits out well inside its busy timeout (DATABASE_BUSY_TIMEOUT_S).
CLAIM_BATCH = 500
RUN_BATCH = 500
MAX_OFFSETS, MAX_OFFSET_H = 4, 60 * 24



# --- the practice's offsets ----------------------------------------------------------------

def offsets_for(practice: Practice) -> list[int]:
    """Hours before an appointment its reminders go out, largest first."""
    policy = ReminderPolicy.objects.for_practice(practice).first()
    return sorted(policy.offsets_h if policy else DEFAULT_OFFSETS_H, reverse=True)


def set_offsets(practice: Practice, hours: Sequence[int], *, by: Any,
                request: HttpRequest | None = None) -> list[int]:
    """The practice's new offsets, for appointments imported or moved from now on."""
    offsets = sorted(set(hours), reverse=True)
    if not 1 <= len(offsets) <= MAX_OFFSETS or not all(0 < h <= MAX_OFFSET_H for h in offsets):
        raise ValueError(f"1 to {MAX_OFFSETS} offsets, each 1 hour to 60 days")
    with transaction.atomic():
        ReminderPolicy.objects.update_or_create(practice=practice,
                                                defaults={"offsets_h": offsets})
        record(Action.REMINDER_POLICY, request=request, actor=by, practice=practice,
               reason="hours before: " + ", ".join(map(str, offsets)))
    return offsets


# --- making and unmaking reminders ----------------------------------------------------------

def plan(appointment: Appointment, offsets_h: Iterable[int], now: dt.datetime) -> list[Reminder]:
    """The appointment's reminders, one per offset, each pending or skipped as too late."""
    made = [Reminder(practice_id=appointment.practice_id, appointment=appointment, offset_h=h,
                     for_starts_at=appointment.starts_at,
                     send_at=appointment.starts_at - dt.timedelta(hours=h))
            for h in sorted(offsets_h, reverse=True)]
    passed = [r for r in made if r.send_at <= now]
    for reminder in passed:
        reminder.status, reminder.reason, reminder.decided_at = (
            ReminderStatus.SKIPPED_LATE, "late", now)
    if passed and appointment.starts_at - now >= LATE_FLOOR:
        latest = passed[-1]  # the smallest offset, the one nearest its time
        latest.status, latest.reason, latest.decided_at, latest.send_at = (
            ReminderStatus.PENDING, "", None, now)
    return made


def schedule_new(practice: Practice, appointments: Sequence[Appointment], *,
                 now: dt.datetime | None = None) -> int:
    """Reminders for appointments that have none yet (just imported); how many are pending."""
    now = now or timezone.now()
    offsets = offsets_for(practice)
    rows = [r for a in appointments if a.status in LIVE for r in plan(a, offsets, now)]
    insert_many(rows)
    return sum(1 for r in rows if r.status == ReminderStatus.PENDING)


LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.RESCHEDULE_REQUESTED)


def reschedule(appointment: Appointment, *, now: dt.datetime | None = None) -> int:
    """A moved appointment: its pending reminders are cancelled and new ones made."""
    with transaction.atomic():
        cancel_pending(appointment, reason="moved", now=now)
        return schedule_new(appointment.practice, [appointment], now=now)


def _pending(appointment: Appointment) -> QuerySet[Reminder]:
    return Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING)


def cancel_pending(appointment: Appointment, *, reason: str,
                   now: dt.datetime | None = None) -> int:
    return _pending(appointment).update(status=ReminderStatus.CANCELLED, reason=reason,
                                        decided_at=now or timezone.now())


def skip_confirmed(appointment: Appointment, *, now: dt.datetime | None = None) -> int:
    """A confirmed appointment skips its later reminders."""
    return _pending(appointment).update(status=ReminderStatus.SKIPPED_CONFIRMED,
                                        reason="confirmed", decided_at=now or timezone.now())


# --- the seam: what is due, and the one function that sends it -----------------------------

def due_reminders(now: dt.datetime | None = None) -> QuerySet[Reminder]:
    """Pending reminders whose time has come and that no live claim holds."""
    now = now or timezone.now()
    return (Reminder.objects.filter(status=ReminderStatus.PENDING, send_at__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
            .order_by("send_at", "id")
            .select_related("appointment__patient"))


def claim(due: QuerySet[Reminder], limit: int, now: dt.datetime) -> list[Reminder]:
    """Up to ``limit`` of ``due``, each now this caller's, with their practices and
    providers (a few rows, not one a reminder) read once for the batch."""
    taken = claims.claim_due(due, limit, claimed_at=now)
    practices = Practice.objects.in_bulk({r.practice_id for r in taken})
    providers = Provider.objects.in_bulk({r.appointment.provider_id for r in taken})
    for reminder in taken:
        reminder.practice = practices[reminder.practice_id]
        reminder.appointment.provider = providers[reminder.appointment.provider_id]
    return taken


def send_reminder(reminder: Reminder, now: dt.datetime | None = None) -> str:
    """Send one claimed reminder through the sending decision, or record why not; returns
    the status it ends in. One transaction (a savepoint inside a batch's): the text queued,
    the decision and the reminder's status recorded together, or none of them.

    On the channel the patient prefers and consented to (``decisions.reminder_channel``):
    a text or an email, or a call (``voice.place_reminder_call``). A reminder deferred by
    quiet hours is ``deferred``; the decision's own job decides it again, and settles the
    reminder."""
    now = now or timezone.now()
    # A batch of one, unless inside the job's: the channel chosen and the decision made on
    # it read the patient's preferences once.
    with transaction.atomic(), decisions.batch():
        return _send(reminder, now)


def _send(reminder: Reminder, now: dt.datetime) -> str:
    changed = decisions.no_longer_wanted(reminder, now)
    if changed is not None:
        return _decide(reminder, now, decisions.REMINDER_STATUS[changed], changed)
    decision = _draft(reminder, now)
    decisions.decide(decision, now)
    return _decide(reminder, now, decisions.reminder_status(decision), decision.reason,
                   delivery_id=decision.delivery_id)


def _decide(reminder: Reminder, now: dt.datetime, status: str, reason: str,
            delivery_id: Any = None) -> str:
    """Record the decision, if the claim that made it is still this caller's."""
    decided = Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.PENDING,
                                      claimed_at=reminder.claimed_at).update(
        status=status, reason=reason, decided_at=now, delivery_id=delivery_id)
    if not decided:
        log.warning("reminder %s: decided, but its claim had lapsed", reminder.pk)
    reminder.status, reminder.reason = status, reason
    return status


def send_due(limit: int = CLAIM_BATCH, now: dt.datetime | None = None) -> int:
    """The worker's job: every due reminder claimed and decided."""
    now = now or timezone.now()
    return decide_due(due_reminders(now), limit, now)


def decide_due(due: QuerySet[Reminder], limit: int, now: dt.datetime) -> int:
    """Up to ``limit`` of ``due`` claimed and decided (``decide_claimed``), in one
    transaction for the batch: one commit (on PostgreSQL, one flush of its log to disk)
    instead of one per reminder, which cost ten times the rest."""
    with transaction.atomic():
        return decide_claimed(claim(due, limit, now), now)


def decide_claimed(claimed: list[Reminder], now: dt.datetime) -> int:
    """Every claimed reminder decided; inside the transaction that claimed them, whose
    claim holds them until it commits (on PostgreSQL, locked: another worker's claim skips
    them; on SQLite, by the write lock), so none is taken by another worker before its
    decision is recorded.

    Together first (``_together``): the sending decisions made by ``decisions.send_many``
    (consent, caps and the texts each read or written for the batch at once). If anything
    in that raises, its savepoint is undone and each reminder is decided alone by
    ``send_reminder``, in a savepoint of its own: one that fails is rolled back alone and
    stays claimed (tried again when its lease runs out), and the others stand."""
    if not claimed:
        return 0
    try:
        with transaction.atomic(), decisions.batch():
            return _together(claimed, now)
    except Exception as exc:  # noqa: BLE001 (decided one by one below; each one logged)
        log.warning("a batch of %d reminders is decided one by one: %s", len(claimed),
                    type(exc).__name__)
    with decisions.batch():
        decisions.preload([r.appointment.patient for r in claimed])
        return claims.each(claimed, lambda r: bool(send_reminder(r, now)), log, "reminder")


def _together(claimed: list[Reminder], now: dt.datetime) -> int:
    decisions.preload([r.appointment.patient for r in claimed])
    drafts = []
    for reminder in claimed:
        changed = decisions.no_longer_wanted(reminder, now)
        if changed is not None:
            reminder.status, reminder.reason = decisions.REMINDER_STATUS[changed], changed
        else:
            drafts.append((reminder, _draft(reminder, now)))
    decisions.send_many([d for _, d in drafts], now)
    for reminder, decision in drafts:
        reminder.status, reminder.reason = decisions.reminder_status(decision), decision.reason
        reminder.delivery = decision.delivery
    for reminder in claimed:
        reminder.decided_at = now
    update_many(claimed, DECIDED)
    return len(claimed)


DECIDED = ("status", "reason", "decided_at", "delivery")


def _draft(reminder: Reminder, now: dt.datetime) -> SendDecision:
    appointment = reminder.appointment
    return decisions.draft(
        reminder.practice, appointment.patient, purpose=Purpose.APPOINTMENT_REMINDERS,
        channel=decisions.reminder_channel(appointment.patient, now),
        reason=Reason.APPOINTMENT, values=Values(provider=appointment.provider,
                                                 appointment_at=appointment.starts_at),
        idempotency_key=f"reminder-{reminder.pk}", reminder=reminder)


# --- reminder runs ------------------------------------------------------------------------

def start_run(practice: Practice, *, by: Any, request: HttpRequest | None = None,
              now: dt.datetime | None = None) -> ReminderRun:
    """A run over every reminder of the practice due by now, for the worker to take in
    batches. Nothing is sent in the request that starts it."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ReminderRun.objects.create(practice=practice, started_by=by, as_of=now)
        # Not the reminders a run still under way holds: it would lose them past its cursor.
        run.total = (Reminder.objects.for_practice(practice)
                     .filter(status=ReminderStatus.PENDING, send_at__lte=now)
                     .filter(Q(run__isnull=True) | Q(run__state=RunState.DONE))
                     .update(run=run))
        if not run.total:
            run.state, run.finished_at = RunState.DONE, now
        run.save()
        record(Action.REMINDER_RUN, request=request, actor=by, practice=practice, obj=run,
               reason=f"{run.total} reminders due")
    return run


def due_runs(now: dt.datetime) -> QuerySet[ReminderRun]:
    return (ReminderRun.objects.exclude(state=RunState.DONE)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
            .order_by("created_at").select_related("practice"))


def advance_runs(limit: int = 4, batch: int = RUN_BATCH, now: dt.datetime | None = None) -> int:
    """The worker's job: one batch of each run that is not done."""
    now = now or timezone.now()
    runs = claims.claim_due(due_runs(now), limit, state=RunState.RUNNING, claimed_at=now)
    return claims.each(runs, lambda run: advance(run, batch, now), log, "reminder run")


def advance(run: ReminderRun, batch: int, now: dt.datetime) -> int:
    """The next ``batch`` reminders after the run's cursor: each still pending is claimed
    and sent; the cursor and counts move in one conditional write (a worker whose claim
    lapsed moves nothing). Sending twice is impossible: a decided reminder is not pending,
    and the outbox keys each reminder's text by the reminder."""
    rows = Reminder.objects.filter(run=run).order_by("send_at", "id")
    if run.cursor_send_at is not None:
        rows = rows.filter(Q(send_at__gt=run.cursor_send_at)
                           | Q(send_at=run.cursor_send_at, id__gt=run.cursor_id))
    taken = list(rows.values_list("pk", "send_at")[:batch])
    finished = len(taken) < batch
    cursor = taken[-1] if taken else (run.cursor_id, run.cursor_send_at)
    with transaction.atomic():  # the batch's decisions and the run's progress, together
        mine = claim(due_reminders(now).filter(pk__in=[pk for pk, _ in taken]), batch, now)
        decide_claimed(mine, now)
        sent = Reminder.objects.filter(pk__in=[r.pk for r in mine],
                                       status=ReminderStatus.SENT).count()
        _move_cursor(run, now, len(taken), sent, cursor, finished)
    return len(taken)


def _move_cursor(run: ReminderRun, now: dt.datetime, taken: int, sent: int,
                 cursor: tuple[Any, Any], finished: bool) -> None:
    ReminderRun.objects.filter(pk=run.pk, claimed_at=run.claimed_at).update(
        done=F("done") + taken, sent=F("sent") + sent, claimed_at=None,
        cursor_id=cursor[0], cursor_send_at=cursor[1],
        state=RunState.DONE if finished else RunState.RUNNING,
        finished_at=now if finished else None)
