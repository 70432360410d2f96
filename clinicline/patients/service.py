"""Creating, changing and finding patients. Every touch is audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.patients import normalize
from clinicline.patients.models import BY_MRN, BY_NAME_DOB, BY_PHONE, ContactPoint, Patient
from clinicline.practices.models import Practice
from clinicline.vault.blind import blind_index


def create_patient(practice: Practice, *, request: HttpRequest | None = None, actor: Any = None,
                   phones: Sequence[str] = (), **values: Any) -> Patient:
    with transaction.atomic():
        patient = Patient(practice=practice, **values)
        patient.refresh_indexes()
        patient.save(force_insert=True)
        record(Action.CREATE, request=request, actor=actor, practice=practice, obj=patient,
               patient=patient, fields=[f for f in Patient.PHI_FIELDS if values.get(f)])
        for phone in phones:
            add_contact(patient, ContactPoint.Kind.PHONE, phone, request=request, actor=actor)
    return patient


def update_patient(patient: Patient, *, request: HttpRequest | None = None, actor: Any = None,
                   **values: Any) -> list[str]:
    """Apply changed values; returns the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(patient, name, values[name])
        patient.refresh_indexes()
        patient.save()
        record(Action.UPDATE, request=request, actor=actor, practice=patient.practice_id,
               obj=patient, patient=patient, fields=changed)
    return changed


def delete_patient(patient: Patient, *, request: HttpRequest | None = None,
                   actor: Any = None) -> None:
    with transaction.atomic():
        record(Action.DELETE, request=request, actor=actor, practice=patient.practice_id,
               obj=patient, patient=patient, fields=Patient.PHI_FIELDS)
        patient.delete()


def add_contact(patient: Patient, kind: str, value: str, *, label: str = "",
                verified_at: dt.datetime | None = None, request: HttpRequest | None = None,
                actor: Any = None) -> ContactPoint:
    if kind == ContactPoint.Kind.PHONE:
        value = normalize.phone_e164(value)
    with transaction.atomic():
        contact = ContactPoint(practice_id=patient.practice_id, patient=patient, kind=kind,
                               value=value, label=label, verified_at=verified_at)
        contact.refresh_indexes()
        contact.save(force_insert=True)
        record(Action.CREATE, request=request, actor=actor, practice=patient.practice_id,
               obj=contact, patient=patient, fields=["value"])
    return contact


# --- lookups by blind index (no decryption of non-matching rows) ---------------------------

def find_by_phone(practice: Practice, raw_phone: str) -> list[Patient]:
    key = blind_index(practice.pk, BY_PHONE, normalize.phone_e164(raw_phone))
    return list(Patient.objects.for_practice(practice)
                .filter(contact_points__value_index=key).distinct())


def find_by_name_dob(practice: Practice, given: str, family: str, dob: dt.date) -> list[Patient]:
    key = blind_index(practice.pk, BY_NAME_DOB, normalize.name_dob_key(given, family, dob))
    return list(Patient.objects.for_practice(practice).filter(name_dob_index=key))


def find_by_mrn(practice: Practice, mrn: str) -> list[Patient]:
    key = blind_index(practice.pk, BY_MRN, normalize.mrn_key(mrn))
    return list(Patient.objects.for_practice(practice).filter(mrn_index=key))
