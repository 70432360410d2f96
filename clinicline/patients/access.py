"""Who may open which patient record, and break-glass when they normally may not."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicline.accounts.models import BreakGlassGrant, Membership
from clinicline.accounts.roles import Perm, Role, allows
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.patients.models import Patient, Purpose


class Access(Enum):
    OPEN = "open"
    BREAK_GLASS = "break-glass"   # not normally, but may break the glass
    NONE = "none"


def access_to(membership: Membership, patient: Patient) -> Access:
    role = membership.role
    normal = allows(role, Perm.VIEW_PATIENT) and (
        not patient.restricted or allows(role, Perm.VIEW_RESTRICTED))
    if normal or active_grant(membership, patient):
        return Access.OPEN
    return Access.BREAK_GLASS if allows(role, Perm.BREAK_GLASS) else Access.NONE


def active_grant(membership: Membership, patient: Patient) -> BreakGlassGrant | None:
    return BreakGlassGrant.objects.filter(
        practice=membership.practice_id, user=membership.user_id, patient=patient,
        expires_at__gt=timezone.now()).first()


def identifiers_in(text: str, patient: Patient) -> bool:
    """Does an explanation carry the patient's name, or a date or number (DOB, phone, MRN)?"""
    words = {w.casefold() for w in re.findall(r"\w+", text)}
    names = {n.casefold() for n in f"{patient.given_name} {patient.family_name}".split()}
    return bool(words & names) or re.search(r"\d{3,}|\d{1,2}[/-]\d{1,2}", text) is not None


def break_glass(request: HttpRequest, membership: Membership, patient: Patient, reason: str,
                explanation: str,
                notify: Callable[[BreakGlassGrant], None] | None = None) -> BreakGlassGrant:
    """Grant time-limited access, audited; ``notify`` (the compliance officers' notice,
    passed in from above) runs in the same transaction."""
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            practice=membership.practice, user=membership.user, patient=patient, reason=reason,
            explanation=explanation, expires_at=BreakGlassGrant.default_expiry())
        record(Action.BREAK_GLASS, request=request, practice=membership.practice, obj=patient,
               patient=patient, reason=f"{reason}: {explanation}")
        if notify is not None:
            notify(grant)
    return grant


# Who reads consent evidence notes (encrypted; they may say "mother signed on behalf"): the
# front desk, who take the forms and answer "why was I (not) texted?", those who run the
# office, and the compliance officer (who opens a record only by break-glass). Everyone
# else who opens the record sees the decision and that a note was recorded, not the note:
# the grid already tells them what may be sent.
EVIDENCE_READERS = frozenset({Role.FRONT_DESK, Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN,
                              Role.COMPLIANCE_OFFICER})


def reads_evidence(role: str) -> bool:
    return role in EVIDENCE_READERS


def consent_purposes(role: str) -> list[str]:
    """The purposes a role may record consent for. Whoever may edit a patient records any;
    billing, who hear "don't text me about my bill" on the phone, only billing (and the
    revocation of everything, which only ever narrows what is sent). Others none."""
    if allows(role, Perm.EDIT_PATIENT):
        return list(Purpose.values)
    if role == Role.BILLING:
        return [Purpose.BILLING, Purpose.ALL]
    return []
