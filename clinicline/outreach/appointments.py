"""Appointments in: ``import_appointments`` is the one way they arrive, shared by the CSV
upload (after its preview) and the API. ``plan_import`` says what an import would do and
writes nothing; the import itself is atomic and idempotent (the practice's external id
finds the row a second import updates, and an unchanged row is left alone).

Lines that cannot be imported (an unknown patient or provider, a time already past) are
reported by line number and skipped; the others go in. A person fixes the file and imports
it again, and the lines that went in the first time are unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.outreach import reminders
from clinicline.outreach.appointment_models import Appointment, AppointmentStatus
from clinicline.patients import normalize
from clinicline.patients.models import BY_MRN, BY_NAME_DOB, Patient
from clinicline.practices.models import Practice, Provider
from clinicline.rows import insert_many
from clinicline.vault.blind import blind_index

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class AppointmentRow:
    """One appointment as a file or an API call gives it. The patient is named by MRN, or
    by name and date of birth; the provider by the name the practice shows."""

    line: int
    external_id: str
    provider: str
    starts_at: dt.datetime  # aware
    location: str = ""
    mrn: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "external_id": self.external_id, "provider": self.provider,
                "starts_at": self.starts_at.isoformat(), "location": self.location,
                "mrn": self.mrn, "given_name": self.given_name, "family_name": self.family_name,
                "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppointmentRow:
        dob = data.get("date_of_birth")
        return cls(**{**data, "starts_at": dt.datetime.fromisoformat(data["starts_at"]),
                      "date_of_birth": dt.date.fromisoformat(dob) if dob else None})

    @property
    def who(self) -> str:
        """The patient as the line names them (shown on the preview, to whom sent it)."""
        return self.mrn or f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class Planned:
    row: AppointmentRow
    action: str  # CREATE, UPDATE or UNCHANGED
    patient_id: Any
    provider_id: int


@dataclass
class ImportPlan:
    planned: list[Planned] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for p in self.planned if p.action == action)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    problems: list[Problem]


def _patient_keys(practice: Practice, rows: Sequence[AppointmentRow]) -> dict[str, list[Any]]:
    """Blind-index key → the ids of the practice's patients it finds, for every key the
    rows name: two queries for the whole file, no decryption."""
    mrn_keys = {blind_index(practice.pk, BY_MRN, normalize.mrn_key(r.mrn)) for r in rows if r.mrn}
    name_keys = {_name_key(practice, r) for r in rows if not r.mrn and r.date_of_birth}
    found: dict[str, list[Any]] = {}
    for column, keys in (("mrn_index", sorted(mrn_keys)), ("name_dob_index", sorted(name_keys))):
        for start in range(0, len(keys), 500):  # SQLite's limit on parameters
            chunk = keys[start:start + 500]
            for pk, key in (Patient.objects.for_practice(practice)
                            .filter(**{f"{column}__in": chunk}).values_list("pk", column)):
                found.setdefault(key, []).append(pk)
    return found


def _name_key(practice: Practice, row: AppointmentRow) -> str:
    assert row.date_of_birth is not None
    return blind_index(practice.pk, BY_NAME_DOB,
                       normalize.name_dob_key(row.given_name, row.family_name, row.date_of_birth))


def _patient_of(practice: Practice, row: AppointmentRow,
                found: dict[str, list[Any]]) -> Any | Problem:
    if row.mrn:
        ids = found.get(blind_index(practice.pk, BY_MRN, normalize.mrn_key(row.mrn)), [])
    elif row.date_of_birth:
        ids = found.get(_name_key(practice, row), [])
    else:
        return Problem(row.line, "Give the patient's MRN, or their name and date of birth.")
    if not ids:
        return Problem(row.line, "Unknown patient: no patient of the practice matches.")
    if len(ids) > 1:
        return Problem(row.line, "More than one patient matches: give the MRN instead.")
    return ids[0]


def providers_by_name(practice: Practice) -> dict[str, int]:
    return {normalize.name_key(p.display_name, ""): p.pk
            for p in Provider.objects.for_practice(practice)}


def plan_import(practice: Practice, rows: Sequence[AppointmentRow],
                now: dt.datetime | None = None) -> ImportPlan:
    """What importing ``rows`` would create, update and leave alone, and why any line
    cannot be imported. Writes nothing."""
    now = now or timezone.now()
    plan, seen = ImportPlan(), set[str]()
    found = _patient_keys(practice, rows)
    providers = providers_by_name(practice)
    existing = _existing(practice, [r.external_id for r in rows])
    for row in rows:
        patient_id = _patient_of(practice, row, found)
        provider_id = providers.get(normalize.name_key(row.provider, ""))
        old = existing.get(row.external_id)
        problem = _problem(row, patient_id, provider_id, old, now, seen)
        seen.add(row.external_id)
        if problem is not None:
            plan.problems.append(problem)
            continue
        assert provider_id is not None
        action = (CREATE if old is None else
                  UNCHANGED if _same(old, row, patient_id, provider_id) else UPDATE)
        plan.planned.append(Planned(row, action, patient_id, provider_id))
    return plan


def _problem(row: AppointmentRow, patient_id: Any, provider_id: int | None,
             old: Appointment | None, now: dt.datetime, seen: set[str]) -> Problem | None:
    if row.external_id in seen:
        return Problem(row.line, f"The id {row.external_id} is on an earlier line too.")
    if isinstance(patient_id, Problem):
        return patient_id
    if provider_id is None:
        return Problem(row.line, "Unknown provider: add them to the practice first.")
    # An appointment already imported may keep its past time (a file re-imported the
    # day after); a new or moved one cannot be in the past.
    if row.starts_at <= now and (old is None or old.starts_at != row.starts_at):
        return Problem(row.line, "The time is in the past.")
    return None


def _existing(practice: Practice, external_ids: list[str]) -> dict[str, Appointment]:
    found: dict[str, Appointment] = {}
    for start in range(0, len(external_ids), 500):
        for appointment in Appointment.objects.for_practice(practice).filter(
                external_id__in=external_ids[start:start + 500]):
            found[appointment.external_id] = appointment
    return found


def _same(old: Appointment, row: AppointmentRow, patient_id: Any, provider_id: int) -> bool:
    return (old.patient_id, old.provider_id, old.starts_at, old.location) == (
        patient_id, provider_id, row.starts_at, row.location)


def import_appointments(practice: Practice, rows: Sequence[AppointmentRow], *, by: Any,
                        request: HttpRequest | None = None,
                        now: dt.datetime | None = None) -> ImportResult:
    """Import ``rows`` (the lines that can be; the result names the others), make their
    reminders, and audit the import by its counts alone."""
    now = now or timezone.now()
    with transaction.atomic():
        plan = plan_import(practice, rows, now)
        existing = _existing(practice, [p.row.external_id for p in plan.planned
                                        if p.action == UPDATE])
        made = _create(practice, [p for p in plan.planned if p.action == CREATE])
        moved = [_update(existing[p.row.external_id], p) for p in plan.planned
                 if p.action == UPDATE]
        reminders.schedule_new(practice, made, now=now)
        for appointment, time_changed in moved:
            if time_changed:
                reminders.reschedule(appointment, now=now)
        result = ImportResult(plan.count(CREATE), plan.count(UPDATE), plan.count(UNCHANGED),
                              plan.problems)
        record(Action.APPOINTMENT_IMPORT, request=request, actor=by, practice=practice,
               reason=f"{result.created} created, {result.updated} updated, "
                      f"{result.unchanged} unchanged, {len(result.problems)} lines refused")
    return result


def _create(practice: Practice, planned: list[Planned]) -> list[Appointment]:
    made = [Appointment(practice=practice, patient_id=p.patient_id, provider_id=p.provider_id,
                        starts_at=p.row.starts_at, location=p.row.location,
                        external_id=p.row.external_id) for p in planned]
    insert_many(made)
    return made


def _update(appointment: Appointment, planned: Planned) -> tuple[Appointment, bool]:
    """The row changed to what the line says; True when its time moved."""
    time_changed = appointment.starts_at != planned.row.starts_at
    appointment.patient_id = planned.patient_id
    appointment.provider_id = planned.provider_id
    appointment.starts_at = planned.row.starts_at
    appointment.location = planned.row.location
    if time_changed and appointment.status != AppointmentStatus.CANCELLED:
        appointment.status = AppointmentStatus.BOOKED  # a new time is confirmed afresh
    appointment.save()
    return appointment, time_changed


def confirm(appointment: Appointment, now: dt.datetime | None = None) -> int:
    """The patient confirmed (a C reply, the front desk): later reminders are skipped."""
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(
            status=AppointmentStatus.CONFIRMED, updated_at=timezone.now())
        appointment.status = AppointmentStatus.CONFIRMED
        return reminders.skip_confirmed(appointment, now=now)


def cancel(appointment: Appointment) -> int:
    """A cancelled appointment is reminded of no more."""
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(
            status=AppointmentStatus.CANCELLED, updated_at=timezone.now())
        appointment.status = AppointmentStatus.CANCELLED
        return reminders.cancel_pending(appointment, reason="cancelled")
