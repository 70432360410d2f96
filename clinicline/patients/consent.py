"""The consent ledger: recording decisions, and deriving consent from them at send time.

Two layers decide whether a channel may carry a purpose:

- the **patient's own entries** (a paper form, registration, the portal, a verbal request):
  the latest for the channel and the purpose, or for every purpose, wins; a revocation beats
  a grant at the same instant. An entry bound to one contact point ("not my work phone")
  counts only for that contact; an entry bound to none counts for all of them.
- the **number's entries**, for texts only: a STOP texted from a phone number stops every
  text to that number from this practice, whichever patient (or none, or one added later)
  has the number on file, and whatever the patient's own entries say; only a START from the
  same phone lifts it, which gives back what the patient had consented to before, no more.

Nothing here caches: every ``state`` call reads the ledger. Audit rows name the entry and
what kind of decision it was, never the evidence note.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record as audit
from clinicline.patients import normalize
from clinicline.patients.models import (
    BY_PHONE,
    QUIET_EARLIEST,
    QUIET_LATEST,
    STAFF_SOURCES,
    Channel,
    ConsentEntry,
    ContactPoint,
    ContactPreference,
    Patient,
    Purpose,
    Source,
)
from clinicline.practices.models import Practice
from clinicline.vault.blind import blind_index

# Latest first; at the same instant a revocation (granted=False sorts first) wins.
LATEST = ("-at", "granted", "-created_at")
AUDITED_FIELDS = ["channel", "purpose", "granted", "detail_allowed", "source", "evidence"]
# A clock a little ahead of the server's (a paper form "signed now") is not the future.
CLOCK_SLACK = dt.timedelta(minutes=5)


class InvalidEntry(ValueError):
    """An entry the ledger refuses; the message says why, in words for staff."""


class Status(enum.StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    NONE = "not asked"


@dataclass(frozen=True)
class ConsentState:
    status: Status
    entry: ConsentEntry | None  # the deciding entry: a sending decision cites its id

    @property
    def allowed(self) -> bool:
        return self.status is Status.GRANTED

    @property
    def detail_allowed(self) -> bool:
        """The patient asked for details on this channel despite its risks."""
        return self.allowed and self.entry is not None and self.entry.detail_allowed

    @property
    def by_number(self) -> bool:
        """Decided by the phone number's own opt-out, not by the patient's entries."""
        return self.entry is not None and bool(self.entry.number_index)


def _check(patient: Patient, channel: str, purpose: str, source: str, by: Any,
           contact: ContactPoint | None, granted: bool, detail_allowed: bool,
           at: dt.datetime) -> None:
    if source in STAFF_SOURCES and by is None:
        raise InvalidEntry("Say who recorded it: a form or a conversation needs a name.")
    if source == Source.SMS_KEYWORD:
        raise InvalidEntry("SMS keywords are recorded by opt_out_by_sms / opt_in_by_sms.")
    if contact is not None and contact.patient_id != patient.pk:
        raise InvalidEntry("That contact point is not this patient's.")
    if granted and purpose == Purpose.ALL:
        raise InvalidEntry("Grant one purpose at a time; \"every purpose\" is for revoking.")
    if detail_allowed and not granted:
        raise InvalidEntry("Only a grant can allow details; a revocation allows nothing.")
    if detail_allowed and channel == Channel.PORTAL:
        raise InvalidEntry("The portal is secure: details there need no special request.")
    if at > timezone.now() + CLOCK_SLACK:
        raise InvalidEntry("A decision cannot take effect in the future.")


def record(patient: Patient, *, channel: str, purpose: str, granted: bool, source: str,
           by: Any = None, evidence: str = "", contact: ContactPoint | None = None,
           at: dt.datetime | None = None, detail_allowed: bool = False,
           request: HttpRequest | None = None) -> ConsentEntry:
    """Append one decision of the patient's, audited in the same transaction."""
    at = at or timezone.now()
    _check(patient, channel, purpose, source, by, contact, granted, detail_allowed, at)
    with transaction.atomic():
        entry = ConsentEntry.objects.create(
            practice_id=patient.practice_id, patient=patient, contact=contact, channel=channel,
            purpose=purpose, granted=granted, detail_allowed=detail_allowed, source=source,
            recorded_by=by, evidence=evidence.strip(), at=at)
        _audit(entry, request=request, actor=by)
    return entry


def _audit(entry: ConsentEntry, *, request: HttpRequest | None = None, actor: Any = None) -> None:
    decision = "granted" if entry.granted else "revoked"
    if entry.detail_allowed:
        decision += " with details (non-secure request)"
    audit(Action.CREATE, request=request, actor=actor, practice=entry.practice_id, obj=entry,
          patient=entry.patient_id, fields=AUDITED_FIELDS,
          reason=f"consent: {entry.channel}, {entry.purpose} {decision} ({entry.source})")


# --- deriving the state ------------------------------------------------------------------

def _phone_indexes(patient: Patient) -> QuerySet[ContactPoint, str]:
    return (ContactPoint.objects.filter(patient=patient, kind=ContactPoint.Kind.PHONE)
            .values_list("value_index", flat=True))


def state(patient: Patient, channel: str, purpose: str, *, at: dt.datetime | None = None,
          contact: ContactPoint | None = None) -> ConsentState:
    """Consent for ``channel`` and ``purpose`` at ``at`` (now), read from the ledger.

    Texts to a ``contact`` also check that number's opt-outs; without a contact, an opt-out
    from any of the patient's phones counts (the careful answer when the number is not
    known). One indexed query a layer, each a LIMIT 1.
    """
    where = _where(patient, channel, purpose, at)
    if channel == Channel.SMS:
        block = (_latest(_sql().number, [contact.value_index, *where]) if contact is not None
                 else _latest(_sql().any_number,
                              [_uuid(patient.pk), *where[:-1]]))
        if block is not None and not block.granted:
            return ConsentState(Status.REVOKED, block)
    return _own(patient, where, contact)


def states_of(wanted: Sequence[tuple[Patient, ContactPoint | None]], channel: str,
              purpose: str, *, at: dt.datetime) -> dict[tuple[Any, Any], ConsentState]:
    """``state`` for many patients at once (each with the contact a text would go to, or
    None), read from the ledger in one query: the same answer ``state`` gives each, by
    (patient id, contact id or None). For a batch of sending decisions made together."""
    if not wanted:
        return {}
    numbers = {c.value_index for p, c in wanted if c is not None}
    if channel == Channel.SMS:  # without a contact, any of the patient's phones (see state)
        numbers |= {c.value_index for p, c in wanted if c is None
                    for c in p.contact_points.all() if c.kind == ContactPoint.Kind.PHONE}
    mine = Q(patient__in=[p.pk for p, _ in wanted], number_index="")
    if channel == Channel.SMS:
        mine |= Q(number_index__in=numbers) & ~Q(number_index="")
    entries = list(ConsentEntry.objects.filter(
        mine, channel=channel, purpose__in=[purpose, Purpose.ALL], at__lte=at))
    own: dict[Any, list[ConsentEntry]] = {}
    by_number: dict[str, list[ConsentEntry]] = {}
    for entry in entries:
        if entry.number_index:
            by_number.setdefault(entry.number_index, []).append(entry)
        else:
            own.setdefault(entry.patient_id, []).append(entry)
    return {(patient.pk, contact.pk if contact else None):
            _derived(patient, contact, channel, own.get(patient.pk, []), by_number)
            for patient, contact in wanted}


def _derived(patient: Patient, contact: ContactPoint | None, channel: str,
             own: list[ConsentEntry], by_number: dict[str, list[ConsentEntry]]) -> ConsentState:
    """What ``state`` says, from the entries already read."""
    if channel == Channel.SMS:
        if contact is not None:
            blocks = [e for e in by_number.get(contact.value_index, [])
                      if e.practice_id == patient.practice_id]
        else:
            blocks = [e for c in patient.contact_points.all()
                      if c.kind == ContactPoint.Kind.PHONE
                      for e in by_number.get(c.value_index, [])]
        block = _newest(blocks)
        if block is not None and not block.granted:
            return ConsentState(Status.REVOKED, block)
    latest = _newest([e for e in own if e.practice_id == patient.practice_id
                      and (contact is None or e.contact_id in (None, contact.pk))])
    if latest is None:
        return ConsentState(Status.NONE, None)
    return ConsentState(Status.GRANTED if latest.granted else Status.REVOKED, latest)


def _newest(entries: list[ConsentEntry]) -> ConsentEntry | None:
    """The entry ``LATEST`` puts first."""
    return max(entries, key=lambda e: (e.at, not e.granted, e.created_at), default=None)


def patient_decision(patient: Patient, channel: str, purpose: str, *,
                     at: dt.datetime | None = None) -> ConsentState:
    """What the patient's own entries say, leaving out the phone numbers' opt-outs (the
    patient page shows those beside each number). Not for sending: use ``state``."""
    return _own(patient, _where(patient, channel, purpose, at), None)


def _own(patient: Patient, where: list[Any], contact: ContactPoint | None) -> ConsentState:
    latest = (_latest(_sql().own, [_uuid(patient.pk), *where]) if contact is None
              else _latest(_sql().own_at, [_uuid(patient.pk), _uuid(contact.pk), *where]))
    if latest is None:
        return ConsentState(Status.NONE, None)
    return ConsentState(Status.GRANTED if latest.granted else Status.REVOKED, latest)


# The hot path of every sending decision, so plain SQL: built through the ORM, the query
# cost some 2 ms a call, nearly all of it in assembling the query (bench/consent.py).
class _Statements(NamedTuple):
    own: str          # the patient's entries bound to no contact
    own_at: str       # ... or to this contact
    number: str       # one number's SMS-keyword entries
    any_number: str   # those of any of the patient's phones


@functools.cache
def _sql() -> _Statements:
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in ConsentEntry._meta.concrete_fields)
    table, contacts = q(ConsentEntry._meta.db_table), q(ContactPoint._meta.db_table)
    latest = f" ORDER BY {q('at')} DESC, {q('granted')} ASC, {q('created_at')} DESC LIMIT 1"
    decision = f"{q('channel')} = %s AND {q('purpose')} IN (%s, %s) AND {q('at')} <= %s"
    rest = f"{decision} AND {q('practice_id')} = %s{latest}"
    select = f"SELECT {columns} FROM {table} WHERE "  # noqa: S608 (fixed names)
    own = f"{select}{q('patient_id')} = %s AND {q('number_index')} = '' AND "
    # The partial index's own condition, word for word, so that both planners take it.
    numbered = f"NOT ({q('number_index')} = '')"
    # Scoped by the patient (one practice's) and by the numbers' blind indexes (HMACs under
    # the practice's own key), not by practice_id: named here, it sent SQLite's planner down
    # the practice's whole ledger, or all its phones, instead of the indexes used here.
    phones = (f"SELECT {q('value_index')} FROM {contacts} "  # noqa: S608 (fixed names)
              f"WHERE {q('patient_id')} = %s AND {q('kind')} = 'phone'")
    return _Statements(
        own=own + rest,
        own_at=f"{own}({q('contact_id')} IS NULL OR {q('contact_id')} = %s) AND {rest}",
        number=f"{select}{q('number_index')} = %s AND {numbered} AND {rest}",
        any_number=f"{select}{q('number_index')} IN ({phones}) AND {numbered} AND "
                   f"{decision}{latest}")


def _where(patient: Patient, channel: str, purpose: str, at: dt.datetime | None) -> list[Any]:
    when = connection.ops.adapt_datetimefield_value(at or timezone.now())
    return [channel, purpose, Purpose.ALL.value, when, patient.practice_id]


def _uuid(value: uuid.UUID) -> Any:
    return ConsentEntry._meta.pk.get_db_prep_value(value, connection)


def _latest(sql: str, params: list[Any]) -> ConsentEntry | None:
    return next(iter(ConsentEntry.objects.raw(sql, params)), None)


def grid(patient: Patient) -> dict[str, dict[str, ConsentState]]:
    """channel -> purpose -> the patient's decision now, for the patient page."""
    return {channel: {purpose: patient_decision(patient, channel, purpose) for purpose in ASKED}
            for channel in Channel.values}


ASKED = [p for p in Purpose.values if p != Purpose.ALL]


def history(patient: Patient) -> list[ConsentEntry]:
    """Every entry that bears on the patient, newest first: their own, and the opt-outs of
    their numbers that came before anyone had the number on file."""
    return list(ConsentEntry.objects.filter(
        Q(patient=patient) | Q(patient__isnull=True, number_index__in=_phone_indexes(patient)),
        practice=patient.practice_id).select_related("recorded_by", "contact")
        .order_by(*LATEST))


# --- SMS keywords (called by two-way SMS) --------------------------------------------------

def opt_out_by_sms(practice: Practice, number: str, *, at: dt.datetime,
                   evidence: str) -> list[ConsentEntry]:
    """A STOP (or the like) texted from ``number``: no more texts to it, for any purpose."""
    return _by_sms(practice, number, granted=False, at=at, evidence=evidence)


def opt_in_by_sms(practice: Practice, number: str, *, at: dt.datetime,
                  evidence: str) -> list[ConsentEntry]:
    """A START (or YES, UNSTOP) from ``number``: lifts that number's opt-out. It grants
    nothing the patient's own entries do not."""
    return _by_sms(practice, number, granted=True, at=at, evidence=evidence)


def _by_sms(practice: Practice, number: str, *, granted: bool, at: dt.datetime,
            evidence: str) -> list[ConsentEntry]:
    """One entry for each patient with the number on file (for their history), or one for
    the number alone if nobody has it: a number that said STOP is never texted, even by a
    patient record made later."""
    key = blind_index(practice.pk, BY_PHONE, normalize.phone_e164(number))
    contacts = list(ContactPoint.objects.for_practice(practice).filter(
        kind=ContactPoint.Kind.PHONE, value_index=key).order_by("created_at"))
    holders: dict[Any, ContactPoint | None] = {}
    for contact in contacts:
        holders.setdefault(contact.patient_id, contact)
    with transaction.atomic():
        made = [ConsentEntry.objects.create(
            practice=practice, patient_id=contact.patient_id if contact else None,
            contact=contact, number_index=key, channel=Channel.SMS, purpose=Purpose.ALL,
            granted=granted, source=Source.SMS_KEYWORD, evidence=evidence.strip(), at=at)
            for contact in (holders.values() or [None])]
        for entry in made:
            _audit(entry)
    return made


# --- preferences ---------------------------------------------------------------------------

PREFERENCE_FIELDS = ("preferred_channel", "only_preferred", "do_not_leave_voicemail",
                     "language", "window_start", "window_end", "time_zone")


def preferences(patient: Patient) -> ContactPreference:
    """The patient's preferences; an unsaved default (none expressed) if there are none."""
    return preferences_of([patient])[patient.pk]


def preferences_of(patients: Sequence[Patient]) -> dict[uuid.UUID, ContactPreference]:
    """Each patient's preferences by patient id, in one query."""
    found = {p.patient_id: p for p in ContactPreference.objects.filter(patient__in=patients)}
    return {patient.pk: found.get(patient.pk) or ContactPreference(
        practice_id=patient.practice_id, patient=patient) for patient in patients}


def set_preferences(patient: Patient, *, request: HttpRequest | None = None, actor: Any = None,
                    **values: Any) -> list[str]:
    """Apply changed preferences, audited; returns the names of the fields that changed."""
    pref = preferences(patient)
    changed = [name for name in PREFERENCE_FIELDS
               if name in values and getattr(pref, name) != values[name]]
    if not changed:
        return []
    with transaction.atomic():
        adding = pref._state.adding
        for name in changed:
            setattr(pref, name, values[name])
        pref.full_clean()
        pref.save()
        audit(Action.CREATE if adding else Action.UPDATE, request=request, actor=actor,
              practice=patient.practice_id, obj=pref, patient=patient, fields=changed)
    return changed


def contact_window(patient: Patient, default_tz: zoneinfo.ZoneInfo,
                   ) -> tuple[dt.time, dt.time, zoneinfo.ZoneInfo]:
    """(earliest, latest, time zone) the patient may be contacted: 08:00-21:00 in their
    zone, narrowed by their preference; ``default_tz`` where they named no zone."""
    pref = preferences(patient)
    tz = zoneinfo.ZoneInfo(pref.time_zone) if pref.time_zone else default_tz
    return (pref.window_start or QUIET_EARLIEST, pref.window_end or QUIET_LATEST, tz)


def number_blocked(contact: ContactPoint) -> ConsentEntry | None:
    """The STOP that stops texts to this phone now, if one does."""
    if contact.kind != ContactPoint.Kind.PHONE:
        return None
    latest = (ConsentEntry.objects.filter(
        practice=contact.practice_id, number_index=contact.value_index, channel=Channel.SMS,
        at__lte=timezone.now()).order_by(*LATEST).first())
    return latest if latest is not None and not latest.granted else None
