"""The sending decision: the one function every outbound patient message goes through.

``send`` decides, records the decision, and queues the message when it may go, in one
transaction. Its checks, in order, each a reason a message is withheld:

1. a contact point of the channel's kind (a phone for texts and calls, an email address),
   and the patient's own "only by my preferred channel" and "no voicemail";
2. ``invalid-number``: a phone that is not a valid number, or a text to one that cannot
   take texts (a landline, a toll-free line) where the number's type is known;
3. ``unverified-contact``: the contact was never verified;
4. consent, derived from the ledger now (``no-consent``, ``opted-out``; an SMS STOP from
   the number counts);
5. quiet hours: outside 08:00-21:00 in every zone the patient may be in (narrowed by their
   preference and the practice's policy) the attempt is ``deferred`` to when the window
   opens, and decided again then by the ``outreach-deferred`` job, every check anew;
6. ``frequency-cap``: exempt-path messages sent to the patient in the last 24 hours and 7
   days, against the practice's caps (1 and 3 by default);
7. the live approved template, rendered from typed slots, and the PHI guard on the words
   as sent (``phi``); else the outbox delivery is queued and the decision is ``sent``.
   A secure link the words have no ``{secure_link}`` slot for follows them (a results
   text to a patient who consented to the portal); anything decided for a call or a
   voicemail places a call (``voice.place_reminder_call``, ``voice.place_message_call``),
   whose voice and voicemail words are both checked.

The decision row holds no text and no number (see ``decision_models``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeVar

import phonenumbers
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinicline import claims
from clinicline.outbox.models import Delivery
from clinicline.outbox.service import enqueue, enqueue_many, guard_options, unsaved
from clinicline.outreach import service, templates, zones
from clinicline.outreach.appointment_models import (
    AppointmentStatus,
    Reminder,
    ReminderStatus,
)
from clinicline.outreach.decision_models import (
    DEFAULT_PER_DAY,
    DEFAULT_PER_WEEK,
    Outcome,
    SendDecision,
    SendingPolicy,
    Why,
)
from clinicline.outreach.kinds import SPOKEN, Channel, Language, Purpose, Reason
from clinicline.outreach.voice_models import ResultsLink
from clinicline.patients import consent, normalize
from clinicline.patients.consent import ConsentState, Status
from clinicline.patients.models import (
    QUIET_EARLIEST,
    QUIET_LATEST,
    ContactPoint,
    ContactPreference,
    Patient,
)
from clinicline.practices.models import Practice
from clinicline.rows import insert_many

log = logging.getLogger("clinicline.outreach")

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.VOICE, Channel.VOICEMAIL})
PNT = phonenumbers.PhoneNumberType
# Numbers a text cannot reach. A "fixed line or mobile" (most of North America) may.
NOT_TEXTABLE = frozenset({PNT.FIXED_LINE, PNT.TOLL_FREE, PNT.PREMIUM_RATE, PNT.SHARED_COST,
                          PNT.PAGER, PNT.UAN, PNT.VOICEMAIL})
LEASE = dt.timedelta(minutes=5)
CLAIM_BATCH = 50
DAY, WEEK = dt.timedelta(days=1), dt.timedelta(days=7)
# What a reminder's row says when its decision is made (see ``settle_reminder``).
REMINDER_STATUS = {Why.CONFIRMED: ReminderStatus.SKIPPED_CONFIRMED,
                   Why.CANCELLED: ReminderStatus.CANCELLED, Why.MOVED: ReminderStatus.CANCELLED,
                   Why.STARTED: ReminderStatus.SKIPPED_LATE}


T = TypeVar("T")
# What stays the same for a batch of decisions in one transaction: the practice's live
# words, its policy and what its messages may name, and the patients' preferences (read
# for the whole batch at once). Consent is read for each decision, or by ``send_many``
# for its drafts together, in their transaction, each answer used by one decision.
_batch: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("decisions", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Decisions made inside share the practice's words, policy and guard options. Inside
    another batch, that one goes on (what it read is kept)."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def _once(key: tuple[Any, ...], make: Callable[[], T]) -> T:
    memo = _batch.get()
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    result: T = memo[key]
    return result


def preferences(patient: Patient) -> ContactPreference:
    """The patient's preferences, read once for a batch (the channel chosen and the decision
    made on it read the same ones)."""
    return _once(("preferences", patient.pk), lambda: consent.preferences(patient))


def preload(patients: Sequence[Patient]) -> None:
    """Read the batch's patients' preferences and contact points, in one query each
    (outside a batch: nothing)."""
    memo = _batch.get()
    if memo is None:
        return
    for pk, pref in consent.preferences_of(patients).items():
        memo[("preferences", pk)] = pref
    contacts: dict[Any, list[ContactPoint]] = {p.pk: [] for p in patients}
    for contact in ContactPoint.objects.filter(patient__in=list(contacts)):
        contacts[contact.patient_id].append(contact)
    for pk, found in contacts.items():
        memo[("contacts", pk)] = found


def language_for(patient: Patient, purpose: str, channel: str) -> str:
    """The patient's language, where the practice has words of this kind in it; otherwise
    English, which every kind has."""
    language = preferences(patient).language or Language.EN
    return language if (purpose, channel, language) in service.KINDS else Language.EN


def send(practice: Practice, patient: Patient, *, purpose: str, channel: str, reason: Reason,
         values: templates.Values, at: dt.datetime | None = None, idempotency_key: str,
         exempt: bool = False, reminder: Reminder | None = None,
         by: Any = None, results_link: ResultsLink | None = None) -> SendDecision:
    """Decide one outbound message, record the decision, and queue it if it may go.
    ``results_link``: the results request this message is (its call is placed about it)."""
    decision = draft(practice, patient, purpose=purpose, channel=channel, reason=reason,
                     values=values, idempotency_key=idempotency_key, exempt=exempt,
                     reminder=reminder, by=by, results_link=results_link)
    decide(decision, at or timezone.now())
    return decision


def decide(decision: SendDecision, now: dt.datetime) -> None:
    """Make a ``draft``'s decision and record it, with what it queued, in one transaction."""
    with transaction.atomic():
        _decide(decision, now)
        decision.save(force_insert=True)


def draft(practice: Practice, patient: Patient, *, purpose: str, channel: str, reason: Reason,
          values: templates.Values, idempotency_key: str, exempt: bool = False,
          reminder: Reminder | None = None, by: Any = None,
          results_link: ResultsLink | None = None) -> SendDecision:
    """The decision to be made, not yet made: for ``send``, or ``send_many`` with others."""
    if patient.practice_id != practice.pk:
        raise ValueError("the patient is not this practice's")
    values = replace(values, reason=reason)
    return SendDecision(
        practice=practice, patient=patient, purpose=purpose, channel=channel, exempt=exempt,
        reminder=reminder, results_link=results_link, idempotency_key=idempotency_key,
        provider=values.provider,
        slot_reason=reason, appointment_at=values.appointment_at,
        secure_token=values.secure_link.token if values.secure_link else "", created_by=by)


def send_many(drafts: Sequence[SendDecision], now: dt.datetime) -> None:
    """``send`` for many drafts at once, inside a ``batch`` and the caller's transaction:
    every check made for each as ``send`` makes it, but consent and the caps read for the
    whole batch in one query each, the texts queued in one insert and the decisions
    recorded in another. A draft that raises raises here: the caller's transaction undoes
    the batch, and the caller decides its drafts one by one instead."""
    memo = _batch.get()
    if memo is None:
        raise RuntimeError("send_many decides a batch: call it inside decisions.batch()")
    _preload_consent(memo, drafts, now)
    _preload_caps(memo, drafts, now)
    queued: list[Delivery] = []
    memo[QUEUED] = queued
    try:
        for decision in drafts:
            _decide(decision, now)
    finally:
        del memo[QUEUED]
    made = enqueue_many(queued)  # by key: a key queued before keeps its earlier delivery
    for decision in drafts:
        if decision.delivery is not None and decision.delivery.idempotency_key in made:
            decision.delivery = made[decision.delivery.idempotency_key]
    insert_many(drafts)


QUEUED = ("queued",)  # the batch's key for the texts ``send_many`` queues together


def _preload_consent(memo: dict[tuple[Any, ...], Any], drafts: Sequence[SendDecision],
                     now: dt.datetime) -> None:
    wanted: dict[tuple[str, str], list[tuple[Patient, ContactPoint | None]]] = {}
    for d in drafts:
        contact = best_contact(d.patient, d.channel) if d.channel == Channel.SMS else None
        wanted.setdefault((d.channel, d.purpose), []).append((d.patient, contact))
    for (channel, purpose), pairs in wanted.items():
        for (patient_pk, contact_pk), state in consent.states_of(pairs, channel, purpose,
                                                                 at=now).items():
            memo[("consent", patient_pk, contact_pk, channel, purpose, now)] = state


def _consent(d: SendDecision, contact: ContactPoint | None, now: dt.datetime) -> ConsentState:
    """Consent read now: from the ledger, or from the batch's one read of it (each such
    answer used once)."""
    memo = _batch.get()
    key = ("consent", d.patient.pk, contact.pk if contact else None, d.channel, d.purpose, now)
    if memo is not None and key in memo:
        state: ConsentState = memo.pop(key)
        return state
    return consent.state(d.patient, d.channel, d.purpose, at=now, contact=contact)


def _preload_caps(memo: dict[tuple[Any, ...], Any], drafts: Sequence[SendDecision],
                  now: dt.datetime) -> None:
    patients = {d.patient.pk for d in drafts}
    times: dict[Any, list[dt.datetime]] = {pk: [] for pk in patients}
    for pk, at in _sent_within_week(now).filter(patient__in=patients).values_list(
            "patient_id", "decided_at"):
        times[pk].append(at)
    for pk, sent in times.items():
        memo[("sent", pk, now)] = sent


def _values(decision: SendDecision) -> templates.Values:
    kind = templates.ResultsLinkUrl if decision.results_link_id else templates.SecureLink
    link = kind(decision.secure_token) if decision.secure_token else None
    return templates.Values(provider=decision.provider, reason=Reason(decision.slot_reason),
                            appointment_at=decision.appointment_at, secure_link=link)


def _decide(d: SendDecision, now: dt.datetime) -> None:
    d.decided_at = now
    pref = preferences(d.patient)
    why, contact = _before_consent(d, pref)
    if contact is None:
        return _withhold(d, why or Why.UNVERIFIED)
    state = _consent(d, contact if d.channel == Channel.SMS else None, now)
    d.consent_entry = state.entry
    if state.status is not Status.GRANTED:
        return _withhold(d, Why.OPTED_OUT if state.status is Status.REVOKED else Why.NO_CONSENT)
    policy = _once(("policy", d.practice_id), lambda: policy_for(d.practice))
    opens = window_opens(d.patient, d.practice, policy, now, number=_number(contact),
                         pref=pref)
    if opens > now:
        d.outcome, d.reason, d.due_at = Outcome.DEFERRED, Why.QUIET_HOURS, opens
        return None
    language = language_for(d.patient, d.purpose, d.channel)
    kind = (d.purpose, d.channel, language)
    live = _once(("live", d.practice_id, kind), lambda: service.live(d.practice, kind))
    d.template_version, d.template_number = live.version, live.number
    d.exempt = d.exempt or live.exempt
    if d.exempt and capped(d.patient, policy, now):
        return _withhold(d, Why.FREQUENCY_CAP)
    text, phi = _guarded(d, _words(d, live.body), d.channel, language, contact)
    if phi or (d.channel in SPOKEN and _guarded(d, _call_words(d, language), _other(d),
                                                language, contact)[1]):
        return _withhold(d, Why.PHI)
    d.delivery = _queue(d, contact, text, language, now)
    d.outcome, d.reason = Outcome.SENT, ""
    memo = _batch.get()
    if d.exempt and memo is not None and ("sent", d.patient.pk, now) in memo:
        memo["sent", d.patient.pk, now].append(now)  # the caps of the batch's later drafts
    return None


def _guarded(d: SendDecision, body: str, channel: str, language: str,
             contact: ContactPoint) -> tuple[str, bool]:
    """The words as sent on ``channel``, and whether the PHI guard found anything in them.
    The guard may reuse its look at the same words for another patient, except at words
    holding a secure link: its token is a secret, kept in no cache."""
    text, spans = templates.rendered(body, practice=d.practice, channel=channel,
                                     language=language, values=_values(d))
    return text, bool(templates.rendered_checks(
        text, practice=d.practice, channel=channel, language=language, spans=spans,
        patient=d.patient, phone=_number(contact), reuse=not d.secure_token,
        options=_once(("guard", d.practice_id), lambda: guard_options(d.practice))))


def _other(d: SendDecision) -> str:
    return Channel.VOICEMAIL if d.channel == Channel.VOICE else Channel.VOICE


def _call_words(d: SendDecision, language: str) -> str:
    """A call decided by voice or by voicemail says the voice words to a person who
    answers and leaves the voicemail words on a machine: the live words of the other one
    are checked too."""
    kind = (d.purpose, _other(d), language)
    return _once(("live", d.practice_id, kind), lambda: service.live(d.practice, kind)).body


def _words(d: SendDecision, body: str) -> str:
    """The approved words, and after them a secure link they have no slot for, as its own
    slot (vouched for by the guard like any); a spoken channel carries no link."""
    if (not d.secure_token or d.channel in SPOKEN
            or templates.Slot.SECURE_LINK in templates.slots_in(body)[0]):
        return body
    return f"{body} {{{templates.Slot.SECURE_LINK}}}"


def _queue(d: SendDecision, contact: ContactPoint, text: str, language: str,
           now: dt.datetime) -> Delivery:
    """What the decision allowed, queued: anything by call or by voicemail is a call (a
    reminder's listens for 1, 2 or 3) that leaves the voicemail words only with voicemail
    consent when a machine answers; anything else is a message of the words checked
    above."""
    about = d.reminder or d.results_link
    if d.channel in SPOKEN:
        # Imported here: the call builds on reminders, and reminders are decided here.
        from clinicline.outreach.voice import place_message_call, place_reminder_call

        call = (place_reminder_call(about, to=contact.value, language=language, now=now)
                if about is not None else place_message_call(
                    d.practice, d.patient, purpose=str(d.purpose), provider=d.provider,
                    to=contact.value, language=language, now=now))
        assert call.delivery is not None  # noqa: S101 - placed with its delivery
        return call.delivery
    memo = _batch.get()
    if memo is not None and QUEUED in memo:  # send_many queues the batch's texts together
        delivery = unsaved(d.practice, channel=d.channel, to=contact.value, body=text,
                           purpose=str(d.purpose), idempotency_key=d.idempotency_key,
                           patient=d.patient)
        memo[QUEUED].append(delivery)
        return delivery
    return enqueue(d.practice, channel=d.channel, to=contact.value, body=text,
                   purpose=str(d.purpose), idempotency_key=d.idempotency_key,
                   patient=d.patient)


# Reminders go by text unless the patient prefers one of these and consented to it.
REMINDER_CHANNELS = (Channel.VOICE, Channel.EMAIL)


def reminder_channel(patient: Patient, now: dt.datetime) -> str:
    """The channel a reminder takes: the one the patient prefers, when they consented to
    reminders on it at ``now``; otherwise text (whose own decision then reads its consent)."""
    preferred = preferences(patient).preferred_channel
    if preferred in REMINDER_CHANNELS and consent.state(
            patient, preferred, Purpose.APPOINTMENT_REMINDERS, at=now).allowed:
        return preferred
    return Channel.SMS


def _withhold(d: SendDecision, why: Why) -> None:
    d.outcome, d.reason, d.due_at = Outcome.WITHHELD, why, None


def _number(contact: ContactPoint) -> str:
    return contact.value if contact.kind == ContactPoint.Kind.PHONE else ""


def _before_consent(d: SendDecision,
                    pref: ContactPreference) -> tuple[Why | None, ContactPoint | None]:
    """The patient's own channel preferences, then the contact point itself: the contact
    to use, or why there is none."""
    if pref.only_preferred and pref.preferred_channel and pref.preferred_channel != d.channel:
        return Why.NO_CONSENT, None
    if d.channel == Channel.VOICEMAIL and pref.do_not_leave_voicemail:
        return Why.NO_CONSENT, None
    contact = best_contact(d.patient, d.channel)
    if contact is None:
        return Why.UNVERIFIED, None
    if contact.kind == ContactPoint.Kind.PHONE and not reachable(contact.value, d.channel):
        return Why.INVALID_NUMBER, None
    if contact.verified_at is None:
        return Why.UNVERIFIED, None
    return None, contact


def best_contact(patient: Patient, channel: str) -> ContactPoint | None:
    """The contact of the channel's kind to use: a verified one before any other, a mobile
    before any other phone, the oldest first."""
    kind = ContactPoint.Kind.PHONE if channel in PHONE_CHANNELS else ContactPoint.Kind.EMAIL
    memo = _batch.get()
    read = memo.get(("contacts", patient.pk)) if memo is not None else None  # by ``preload``
    found = [c for c in (patient.contact_points.all() if read is None else read)
             if c.kind == kind]
    return min(found, key=lambda c: (c.verified_at is None,
                                     c.label != "mobile" if channel == Channel.SMS else False,
                                     c.created_at), default=None)


def reachable(number: str, channel: str) -> bool:
    """A valid number; for a text, one whose type (where the numbering plan says) can take
    texts."""
    try:
        kind = normalize.number_type(number)  # UNKNOWN exactly when it is not valid
    except phonenumbers.NumberParseException:
        return False
    return kind != PNT.UNKNOWN and (channel != Channel.SMS or kind not in NOT_TEXTABLE)


# --- quiet hours --------------------------------------------------------------------------

def policy_for(practice: Practice) -> SendingPolicy:
    found = SendingPolicy.objects.for_practice(practice).first()
    return found or SendingPolicy(practice=practice, per_day=DEFAULT_PER_DAY,
                                  per_week=DEFAULT_PER_WEEK, window_start=QUIET_EARLIEST,
                                  window_end=QUIET_LATEST)


def window(pref: ContactPreference, policy: SendingPolicy) -> tuple[dt.time, dt.time]:
    """08:00-21:00, narrowed by the patient's preference and the practice's policy (where
    the two do not overlap, the practice's own window stands)."""
    start = max(QUIET_EARLIEST, policy.window_start, pref.window_start or QUIET_EARLIEST)
    end = min(QUIET_LATEST, policy.window_end, pref.window_end or QUIET_LATEST)
    return (start, end) if start < end else (policy.window_start, policy.window_end)


def window_opens(patient: Patient, practice: Practice, policy: SendingPolicy,
                 now: dt.datetime, *, number: str = "",
                 pref: ContactPreference | None = None) -> dt.datetime:
    """``now`` if it is inside the window in every zone the patient may be in, else the
    first moment after it that is (08:00 in the zone that wakes last, usually)."""
    pref = pref or consent.preferences(patient)
    tzs = zones.zones_for(patient, practice, number=number, chosen=pref.time_zone)
    start, end = window(pref, policy)

    def inside(at: dt.datetime) -> bool:
        return all(start <= at.astimezone(tz).time() < end for tz in tzs)

    if inside(now):
        return now
    candidates = sorted(
        dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=d), start, tzinfo=tz)
        for tz in tzs for d in range(3))
    opening = next((c for c in candidates if c > now and inside(c)), None)
    # No moment inside every zone's window (zones half a world apart): the latest opening.
    return opening or max(c for c in candidates if c > now)


# --- caps -----------------------------------------------------------------------------------

def capped(patient: Patient, policy: SendingPolicy, now: dt.datetime) -> bool:
    """The patient already had the day's or the week's exempt-path messages."""
    memo = _batch.get()
    if memo is not None and ("sent", patient.pk, now) in memo:  # read for the batch
        times = memo["sent", patient.pk, now]
    else:
        # By patient alone (the patient is one practice's), so the caps index is the one used.
        times = list(_sent_within_week(now).filter(patient=patient)
                     .values_list("decided_at", flat=True)[:policy.per_week])
    return (len(times) >= policy.per_week
            or sum(1 for t in times if t > now - DAY) >= policy.per_day)


def _sent_within_week(now: dt.datetime) -> QuerySet[SendDecision]:
    return SendDecision.objects.filter(exempt=True, outcome=Outcome.SENT,
                                       decided_at__gt=now - WEEK, decided_at__lte=now)


# --- reminders whose appointment changed, and deferred attempts decided again ---------------

def no_longer_wanted(reminder: Reminder, now: dt.datetime) -> Why | None:
    """Why a reminder is not to be sent at all (its appointment changed since it was made)."""
    appointment = reminder.appointment
    if appointment.status == AppointmentStatus.CONFIRMED:
        return Why.CONFIRMED
    if appointment.status == AppointmentStatus.CANCELLED:
        return Why.CANCELLED
    if reminder.for_starts_at != appointment.starts_at:
        return Why.MOVED
    if appointment.starts_at <= now:
        return Why.STARTED
    return None


def reminder_status(decision: SendDecision) -> str:
    if decision.outcome == Outcome.SENT:
        return ReminderStatus.SENT
    if decision.outcome == Outcome.DEFERRED:
        return ReminderStatus.DEFERRED
    return REMINDER_STATUS.get(Why(decision.reason), ReminderStatus.WITHHELD)


def due_deferred(now: dt.datetime) -> QuerySet[SendDecision]:
    return (SendDecision.objects.filter(outcome=Outcome.DEFERRED, settled_at__isnull=True,
                                        due_at__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
            .order_by("due_at", "id")
            .select_related("practice", "patient", "provider", "reminder__appointment",
                            "results_link"))


def send_deferred(limit: int = CLAIM_BATCH, now: dt.datetime | None = None) -> int:
    """The worker's job: every deferred attempt whose window has opened, decided again."""
    now = now or timezone.now()
    taken = claims.claim_due(due_deferred(now), limit, claimed_at=now)
    with batch():
        return claims.each(taken, lambda d: bool(redecide(d, now)), log, "send decision")


def redecide(deferred: SendDecision, now: dt.datetime) -> SendDecision | None:
    """A new decision for a deferred attempt, every check made again; the deferred row is
    settled (kept, as the record of the deferral). None: another worker settled it."""
    with transaction.atomic():
        if not SendDecision.objects.filter(pk=deferred.pk, settled_at__isnull=True,
                                           claimed_at=deferred.claimed_at).update(
                settled_at=now):
            return None
        again = SendDecision(
            practice=deferred.practice, patient=deferred.patient, purpose=deferred.purpose,
            channel=deferred.channel, exempt=deferred.exempt, reminder=deferred.reminder,
            results_link=deferred.results_link,
            idempotency_key=deferred.idempotency_key, provider=deferred.provider,
            slot_reason=deferred.slot_reason, appointment_at=deferred.appointment_at,
            secure_token=_token_again(deferred, now), created_by=deferred.created_by,
            deferred_from=deferred)
        changed = no_longer_wanted(deferred.reminder, now) if deferred.reminder else None
        if changed is not None:
            again.decided_at = now
            _withhold(again, changed)
        else:
            _decide(again, now)
        again.save(force_insert=True)
        if again.reminder_id is not None:
            Reminder.objects.filter(pk=again.reminder_id).update(
                status=reminder_status(again), reason=again.reason, decided_at=now,
                delivery=again.delivery)
    return again


def _token_again(deferred: SendDecision, now: dt.datetime) -> str:
    """The deferred attempt's secure link, carried again; a results link only while the
    patient's consent to the portal for results still stands (read now)."""
    if deferred.results_link_id and deferred.secure_token and not consent.state(
            deferred.patient, Channel.PORTAL, Purpose.RESULTS_READY, at=now).allowed:
        return ""
    return deferred.secure_token
