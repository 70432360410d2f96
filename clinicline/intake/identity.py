"""Verifying a caller who calls back, before anything about them is said.

A caller proves who they are with name, date of birth and one more factor the practice has
on file: a phone number (any of their contact points) or their MRN. Matching goes through
the blind indexes only, so no record is decrypted to compare. Every attempt is audited,
with its outcome and never what was said; a member who fails too often is stopped for a
while (a caller fishing for a record gets the same few tries whoever answers).

The agent sees one answer for every kind of failure: no such patient, a wrong date of
birth, a factor that does not match, too many attempts. Which one it was is in the audit
trail, for the compliance officer, never on the screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinicline.accounts.access import AuthenticatedRequest
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.audit.service import record
from clinicline.patients import normalize
from clinicline.patients.models import BY_MRN, BY_PHONE, Patient
from clinicline.patients.service import find_by_name_dob
from clinicline.practices.models import Practice
from clinicline.vault.blind import blind_index

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    """What the caller said. ``phone`` is E.164 (the form normalises it), or empty."""

    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone: str = ""
    mrn: str = ""

    def factors(self) -> list[str]:
        return ["given_name", "family_name", "date_of_birth",
                *(["phone"] if self.phone else []), *(["mrn"] if self.mrn else [])]


@dataclass(frozen=True)
class Verification:
    patient: Patient | None
    throttled: bool = False

    @property
    def verified(self) -> bool:
        return self.patient is not None


def recent_failures(practice: Practice, user_id: int, now: dt.datetime) -> int:
    return AuditEvent.objects.filter(
        action=Action.IDENTITY_CHECK, outcome=Outcome.FAILURE, practice_id=practice.pk,
        actor_id=user_id, at__gte=now - FAILURE_WINDOW).count()


def _phone_on_file(patient: Patient, phone: str) -> bool:
    key = blind_index(patient.practice_id, BY_PHONE, phone)
    return patient.contact_points.filter(value_index=key).exists()


def _mrn_on_file(patient: Patient, mrn: str) -> bool:
    return bool(patient.mrn_index) and patient.mrn_index == blind_index(
        patient.practice_id, BY_MRN, normalize.mrn_key(mrn))


def _factor_matches(patient: Patient, claim: Claim) -> bool:
    """Every extra factor given must be on file, and at least one must be given."""
    checks = [*([_phone_on_file(patient, claim.phone)] if claim.phone else []),
              *([_mrn_on_file(patient, claim.mrn)] if claim.mrn else [])]
    return bool(checks) and all(checks)


@dataclass(frozen=True)
class Match:
    patient: Patient | None
    concerns: Patient | None  # whose record the attempt was on (for the audit), if known
    reason: str               # for the audit: PHI-free


def match(practice: Practice, claim: Claim) -> Match:
    """The one patient the claim fits, if any."""
    candidates = find_by_name_dob(practice, claim.given_name, claim.family_name,
                                  claim.date_of_birth)
    if not candidates:
        return Match(None, None, "no patient with that name and date of birth")
    fits = [p for p in candidates if _factor_matches(p, claim)]
    if len(fits) != 1:
        # An attempt on a record is part of that patient's access report, failed or not.
        return Match(None, candidates[0] if len(candidates) == 1 else None,
                     "name and date of birth matched; the further factor did not")
    factors = " and ".join(f for f in ("phone", "mrn") if getattr(claim, f))
    return Match(fits[0], fits[0], f"verified by name, date of birth and {factors}")


def verify_caller(practice: Practice, claim: Claim, *,
                  request: AuthenticatedRequest) -> Verification:
    """Check ``claim`` for the member at ``request``; audited whatever the outcome."""
    user_id = request.user.pk
    with transaction.atomic():
        if recent_failures(practice, user_id, timezone.now()) >= MAX_FAILURES:
            record(Action.IDENTITY_CHECK, request=request, practice=practice,
                   fields=claim.factors(), outcome=Outcome.DENIED,
                   reason=f"more than {MAX_FAILURES} failed checks in "
                          f"{FAILURE_WINDOW.seconds // 60} minutes; not checked")
            return Verification(None, throttled=True)
        found = match(practice, claim)
        record(Action.IDENTITY_CHECK, request=request, practice=practice,
               patient=found.concerns or "", fields=claim.factors(), reason=found.reason,
               outcome=Outcome.SUCCESS if found.patient else Outcome.FAILURE)
    return Verification(found.patient)
