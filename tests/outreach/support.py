"""The practice's people for the appointment tests: Fatima at the front desk, Dr. Amara
Osei, and Walter Okafor, whose mobile the practice has verified."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clinicline.outreach import appointments
from clinicline.outreach.appointments import AppointmentRow
from clinicline.patients import consent
from clinicline.patients import service as patients
from clinicline.patients.models import ContactPoint, Patient, Source
from clinicline.practices.models import Practice, Provider
from tests.conftest import make_patient

WALTER_MOBILE = "+16175550142"


def walter(practice: Practice, verified: bool = True) -> Patient:
    patient = make_patient(practice, mrn="RFM-100142", phone="")
    patients.add_contact(patient, ContactPoint.Kind.PHONE, WALTER_MOBILE, label="mobile",
                         verified_at=timezone.now() if verified else None)
    return patient


# When the patients below signed the practice's texting consent form.
SIGNED = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)


def consents(patient: Patient, by: object, *, channel: str = "sms",
             purpose: str = "appointment-reminders", at: dt.datetime = SIGNED) -> None:
    """The patient's signed form, as the front desk records it."""
    consent.record(patient, channel=channel, purpose=purpose, granted=True,
                   source=Source.PAPER_FORM, by=by, evidence="signed form", at=at)


def dr_osei(practice: Practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")


def row(line: int = 2, external_id: str = "A-1001", *, in_days: float = 10,
        mrn: str = "RFM-100142", **extra: object) -> AppointmentRow:
    starts_at = (timezone.now() + dt.timedelta(days=in_days)).replace(second=0, microsecond=0)
    values = {"provider": "Dr. Amara Osei", "starts_at": starts_at, "location": "Main St office",
              "mrn": mrn, **extra}
    return AppointmentRow(line=line, external_id=external_id, **values)  # type: ignore[arg-type]


def book(practice: Practice, by: object, *rows: AppointmentRow,
         now: dt.datetime | None = None) -> appointments.ImportResult:
    return appointments.import_appointments(practice, rows or (row(),), by=by, now=now)
