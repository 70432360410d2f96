"""Queueing and sending deliveries.

``enqueue`` writes the row (idempotently). The worker's ``send_due`` claims due rows
atomically — ``select_for_update(skip_locked=True)`` where the database has it, and always
a conditional UPDATE that must touch exactly one row — has the PHI guard look at each once
more (``refused``), hands it to
its transport, and records the outcome with the next attempt's time in the same row.

A claim is identified by the row's ``attempts`` after the claim incremented it: every later
write of that attempt's outcome is conditional on it, so a worker that was presumed dead
(``requeue_stuck``) and wakes up cannot overwrite the outcome of the attempt that replaced
its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F, Field, Q, QuerySet
from django.utils import timezone

from clinicline import claims, phiguard, wake
from clinicline.accounts.models import Membership
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.outbox.models import Channel, Delivery, Status
from clinicline.outbox.transports import Transport, TransportError, transport_for
from clinicline.patients import normalize
from clinicline.patients.models import BY_PHONE, ConsentEntry, Patient
from clinicline.patients.models import Channel as ConsentChannel
from clinicline.practices.models import Practice, Provider, Team
from clinicline.rows import insert_many
from clinicline.vault.blind import blind_index

log = logging.getLogger("clinicline.outbox")

# A row left in SENDING this long belongs to a worker that died mid-send: it is queued
# again. The vendor may have taken it, so a crash can mean one duplicate, never a loss.
STUCK_AFTER = dt.timedelta(minutes=5)
CLAIM_BATCH = 20
# Channels that leave our systems: the PHI guard looks at them last.
NON_SECURE = {Channel.SMS, Channel.VOICE, Channel.EMAIL}
# The texts a number that opted out (STOP) still gets: the one confirmation of its
# opt-out, and the answer to a HELP it sent (carriers require HELP to be answered
# whatever the number's status). Every other text to it is withheld when it is due, even
# one queued before the STOP.
OPT_OUT_CONFIRMATION, HELP_ANSWER = "opt-out-confirmation", "help-answer"
AFTER_OPT_OUT = frozenset({OPT_OUT_CONFIRMATION, HELP_ANSWER})
OPTED_OUT = "withheld: opted-out"


def _max_length(field_name: str) -> int:
    field = Delivery._meta.get_field(field_name)
    # A CharField always has one; the check tells the type checker so.
    if not isinstance(field, Field) or field.max_length is None:
        raise ImproperlyConfigured(f"Delivery.{field_name} has no max_length")
    return field.max_length


KEY_MAX = _max_length("idempotency_key")
CHANNELS = frozenset(Channel.values)


def enqueue(practice: Practice, *, channel: str, to: str, body: str, purpose: str,
            idempotency_key: str, patient: Patient | None = None,
            due_at: dt.datetime | None = None, max_attempts: int = 5,
            call_step: str = "") -> Delivery:
    """The delivery for this key: made now, or the one an earlier call already made.
    ``call_step``: a voice call that asks and listens (see ``Delivery.call_step``)."""
    delivery = unsaved(practice, channel=channel, to=to, body=body, purpose=purpose,
                       idempotency_key=idempotency_key, patient=patient, due_at=due_at,
                       max_attempts=max_attempts, call_step=call_step)
    existing = Delivery.objects.filter(practice=practice, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
            if due_at is None or due_at <= timezone.now():  # sent now, not at the next poll
                wake.notify_workers()
    except IntegrityError:  # the same key, enqueued at the same moment elsewhere
        return Delivery.objects.get(practice=practice, idempotency_key=idempotency_key)
    return delivery


def unsaved(practice: Practice, *, channel: str, to: str, body: str, purpose: str,
            idempotency_key: str, patient: Patient | None = None,
            due_at: dt.datetime | None = None, max_attempts: int = 5,
            call_step: str = "") -> Delivery:
    """The delivery ``enqueue`` would make, checked, not yet saved (see ``enqueue_many``)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    # Checked here: SQLite would keep an over-long key that PostgreSQL refuses.
    if not idempotency_key or len(idempotency_key) > KEY_MAX:
        raise ValueError(f"an idempotency key is 1 to {KEY_MAX} characters")
    return Delivery(practice=practice, channel=channel, to=to, body=body, purpose=purpose,
                    idempotency_key=idempotency_key, patient=patient,
                    due_at=due_at or timezone.now(), max_attempts=max_attempts,
                    call_step=call_step)


def enqueue_many(deliveries: Sequence[Delivery]) -> dict[str, Delivery]:
    """``enqueue`` for many ``unsaved`` deliveries at once, in the caller's transaction:
    the keys already queued read in one query (those keep their earlier delivery), the
    rest inserted in one. By key. Keys must be unique among ``deliveries``; a key queued
    elsewhere at the same moment raises (IntegrityError), and the caller's transaction
    is undone."""
    keys = [d.idempotency_key for d in deliveries]
    if len(set(keys)) != len(keys):
        raise ValueError("each delivery of a batch has a key of its own")
    if not deliveries:
        return {}
    found = {(d.practice_id, d.idempotency_key): d for d in queued_as(deliveries)}
    new = [d for d in deliveries if (d.practice_id, d.idempotency_key) not in found]
    insert_many(new)
    now = timezone.now()
    if any(d.due_at is None or d.due_at <= now for d in new):
        wake.notify_workers()
    return {d.idempotency_key: found.get((d.practice_id, d.idempotency_key), d)
            for d in deliveries}


def queued_as(deliveries: Sequence[Delivery]) -> QuerySet[Delivery]:
    """The deliveries already queued under the keys of these (at least one): by practice
    and key, the unique index's own columns (by key alone, the query read every delivery
    ever queued)."""
    by_practice: dict[Any, list[str]] = {}
    for d in deliveries:
        by_practice.setdefault(d.practice_id, []).append(d.idempotency_key)
    where = Q()
    for practice_id, keys in by_practice.items():
        where |= Q(practice_id=practice_id, idempotency_key__in=keys)
    return Delivery.objects.filter(where)


def claim_due(now: dt.datetime | None = None, limit: int = CLAIM_BATCH,
              among: QuerySet[Delivery] | None = None) -> list[Delivery]:
    """Due deliveries (of ``among`` only, if given), each now SENDING and this caller's
    alone."""
    now = now or timezone.now()
    rows = Delivery.objects.all() if among is None else among
    due = (rows.filter(status=Status.QUEUED, due_at__lte=now).order_by("due_at")
           .select_related("practice", "patient"))
    return claims.claim_due(due, limit, status=Status.SENDING, claimed_at=now,
                            attempts=F("attempts") + 1)


def this_attempt(delivery: Delivery) -> QuerySet[Delivery]:
    """The row, only while it is still in the attempt this worker claimed."""
    return Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING,
                                   attempts=delivery.attempts)


def send(delivery: Delivery, now: dt.datetime | None = None) -> None:
    """One attempt at one claimed delivery at ``now`` (the clock by default); the row
    records how it went."""
    now = now or timezone.now()
    if _stopped(delivery, now):
        with transaction.atomic():
            fail(delivery, OPTED_OUT)
            record(Action.DELIVERY_REFUSED, practice=delivery.practice_id, obj=delivery,
                   patient=delivery.patient_id, reason="opted-out", outcome=Outcome.DENIED)
        return
    refusal = refused(delivery)
    if refusal:
        with transaction.atomic():
            fail(delivery, f"withheld: looks like PHI ({', '.join(refusal)})")
            # The kinds of identifier found, never the text that matched.
            record(Action.DELIVERY_REFUSED, practice=delivery.practice_id, obj=delivery,
                   patient=delivery.patient_id, reason=", ".join(refusal),
                   outcome=Outcome.DENIED)
        return
    try:
        transport = transport_for(delivery)
        vendor_id = transport.send(delivery)
    except TransportError as exc:
        failed(delivery, str(exc), permanent=exc.permanent, now=now)
        return
    except Exception as exc:  # a bug or a vendor library surprise: retried, never a stall
        # The message may quote what was sent; the type is enough to find the bug.
        log.exception("delivery %s: %s from its transport", delivery.pk, type(exc).__name__)
        failed(delivery, f"unexpected {type(exc).__name__}", permanent=False, now=now)
        return
    sent(delivery, transport, vendor_id, now)


def sent(delivery: Delivery, transport: Transport, vendor_id: str,
         now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    outcome = {"status": Status.SENT, "transport": transport.name, "vendor_id": vendor_id[:64],
               "sent_at": now, "due_at": None, "error": ""}
    if transport.delivered_on_send:
        outcome.update(status=Status.DELIVERED, delivered_at=now)
    if not this_attempt(delivery).update(**outcome):
        # Requeued as stuck while the vendor took its time: the newer attempt owns the row.
        log.warning("delivery %s: sent, but its claim had lapsed", delivery.pk)


def failed(delivery: Delivery, error: str, *, permanent: bool,
           now: dt.datetime | None = None) -> None:
    if permanent or delivery.attempts >= delivery.max_attempts:
        fail(delivery, error)
        return
    this_attempt(delivery).update(status=Status.QUEUED, claimed_at=None, error=error[:200],
                                  due_at=(now or timezone.now())
                                  + claims.backoff(delivery.attempts))


def opted_out(practice: Practice | int, number: str,
              at: dt.datetime | None = None) -> ConsentEntry | None:
    """The number's live opt-out from this practice's texts (its latest SMS-keyword entry,
    if that is a STOP), or None. An unparseable number has none."""
    try:
        e164 = normalize.phone_e164(number)
    except normalize.InvalidPhone:
        return None
    practice_id = practice.pk if isinstance(practice, Practice) else practice
    latest = (ConsentEntry.objects.filter(
        practice_id=practice_id, number_index=blind_index(practice_id, BY_PHONE, e164),
        channel=ConsentChannel.SMS, at__lte=at or timezone.now())
        .exclude(number_index="")  # the partial index's own condition, for the planner
        .order_by("-at", "granted", "-created_at").first())
    return latest if latest is not None and not latest.granted else None


def _stopped(delivery: Delivery, now: dt.datetime) -> bool:
    return (delivery.channel == Channel.SMS and delivery.purpose not in AFTER_OPT_OUT
            and opted_out(delivery.practice_id, delivery.to, at=now) is not None)


def refused(delivery: Delivery) -> list[str]:
    """The kinds of PHI the guard finds in a non-secure delivery (empty: it may go)."""
    if delivery.channel not in NON_SECURE:
        return []
    phone = delivery.to if delivery.channel in (Channel.SMS, Channel.VOICE) else ""
    return screened(delivery.practice, delivery.body, delivery.patient, phone=phone)


def screened(practice: Practice, body: str, patient: Patient | None = None, *,
             phone: str = "") -> list[str]:
    """The kinds of PHI the guard finds in ``body`` sent on the practice's behalf, to
    ``patient`` (whose own identifiers it must not carry) or to a member of staff."""
    recipient = None
    if patient is not None:
        recipient = phiguard.Recipient(name=patient.display_name,
                                       date_of_birth=patient.date_of_birth, mrn=patient.mrn,
                                       address=patient.address or "", phone=phone)
    return phiguard.check(body, recipient=recipient, **guard_options(practice)).types


def guard_options(practice: Practice) -> dict[str, Any]:
    """What a practice's messages may carry: its own number, links to our secure-link host,
    its name, and the names of its providers, staff (and their user names) and queues (none
    of them PHI). Dates without a year pass (a schedule's "Tue 14 Apr 18:00"), as does a
    20xx year alone: what the outbox gets was made from templates. A date with its year, a
    19xx year and the patient's birthday still block."""
    users = Membership.objects.filter(practice=practice).select_related("user")
    names = [*Provider.objects.for_practice(practice).values_list("display_name", flat=True),
             *Team.objects.for_practice(practice).values_list("name", flat=True),
             *(m.user.get_full_name() for m in users), *(m.user.username for m in users)]
    return {"allowed_numbers": [n for n in (practice.callback_number,
                                            practice.front_desk_number) if n],
            "link_host": urlsplit(settings.SITE_URL).hostname or "",
            "practice_name": practice.name, "allowed_names": [n for n in names if n],
            "allow_dates": True}


def fail(delivery: Delivery, error: str) -> None:
    this_attempt(delivery).update(status=Status.FAILED, due_at=None, error=error[:200])


def send_due(limit: int = CLAIM_BATCH, now: dt.datetime | None = None,
             among: QuerySet[Delivery] | None = None) -> int:
    """The worker's job: what is due at ``now`` (the clock by default), of ``among`` only
    if given (a drill sends its own rows and nobody else's)."""
    deliveries = claim_due(now, limit=limit, among=among)
    for delivery in deliveries:
        send(delivery, now)
    return len(deliveries)


def requeue_stuck(now: dt.datetime | None = None) -> int:
    """Queue again what a dead worker left SENDING; give up on what has used its attempts
    (a delivery that kills every worker that tries it must not do so forever)."""
    now = now or timezone.now()
    stuck = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER)
    with transaction.atomic():
        given_up = stuck.filter(attempts__gte=F("max_attempts")).update(
            status=Status.FAILED, due_at=None, claimed_at=None,
            error="gave up: the worker stopped during every attempt")
        again = stuck.update(status=Status.QUEUED, due_at=now, claimed_at=None)
    return given_up + again


def vendor_status(vendor_id: str, status: str, error: str = "", *,
                  practice: Practice | int | None = None) -> int:
    """A vendor's status callback. A delivered row never moves back, and a delivered
    message is never sent again. ``practice`` (whose signed callback this is) keeps one
    practice's callbacks off another's rows."""
    if not vendor_id:
        return 0
    rows = Delivery.objects.filter(vendor_id=vendor_id)
    if practice is not None:
        rows = rows.filter(practice_id=getattr(practice, "pk", practice))
    if status == Status.DELIVERED:
        # From FAILED too: a carrier that reported a failure and then the arrival has the
        # arrival right. No row with a vendor id is ever queued again, so nothing resends.
        return rows.filter(Q(status=Status.SENT) | Q(status=Status.SENDING)
                           | Q(status=Status.FAILED)).update(
            status=Status.DELIVERED, delivered_at=timezone.now(), error="")
    if status == Status.FAILED:
        return rows.filter(Q(status=Status.SENT) | Q(status=Status.SENDING)).update(
            status=Status.FAILED, due_at=None, error=error[:200] or "vendor failed")
    return 0
