"""Roles and what each may do. Least privilege: a role gets only what its work needs."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "answering agent"
    FRONT_DESK = "front-desk", "front desk"
    NURSE = "nurse", "nurse"
    PROVIDER = "provider", "provider"
    BILLING = "billing", "billing"
    SCHEDULER = "scheduler", "scheduler"
    PRACTICE_MANAGER = "practice-manager", "practice manager"
    PRACTICE_ADMIN = "practice-admin", "practice admin"
    COMPLIANCE_OFFICER = "compliance-officer", "compliance officer"


class Perm(StrEnum):
    VIEW_PATIENT = "view_patient"
    EDIT_PATIENT = "edit_patient"
    VIEW_RESTRICTED = "view_restricted"   # records flagged restricted (staff, VIPs)
    BREAK_GLASS = "break_glass"
    VIEW_AUDIT = "view_audit"
    EXPORT_AUDIT = "export_audit"
    MANAGE_PRACTICE = "manage_practice"   # hours, time zone, session limits
    TAKE_CALLS = "take_calls"             # the agent console: new calls and return calls
    SCHEDULE = "schedule"                 # appointments: import them, run their reminders


CLINICAL = {Role.NURSE, Role.PROVIDER}
_ALL = set(Role)

PERMISSIONS: dict[Perm, set[Role]] = {
    Perm.VIEW_PATIENT: _ALL - {Role.COMPLIANCE_OFFICER},
    Perm.EDIT_PATIENT: {Role.AGENT, Role.FRONT_DESK, Role.NURSE, Role.PROVIDER, Role.SCHEDULER,
                        Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN},
    Perm.VIEW_RESTRICTED: CLINICAL,
    # Everyone who may be called to an emergency; never billing.
    Perm.BREAK_GLASS: _ALL - {Role.BILLING},
    Perm.VIEW_AUDIT: {Role.COMPLIANCE_OFFICER, Role.PRACTICE_ADMIN},
    Perm.EXPORT_AUDIT: {Role.COMPLIANCE_OFFICER},
    Perm.MANAGE_PRACTICE: {Role.PRACTICE_ADMIN},
    Perm.TAKE_CALLS: {Role.AGENT, Role.FRONT_DESK, Role.NURSE, Role.PROVIDER, Role.SCHEDULER,
                      Role.PRACTICE_MANAGER},
    # Those who book: the front desk, schedulers, and who runs the office.
    Perm.SCHEDULE: {Role.FRONT_DESK, Role.SCHEDULER, Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN},
}

# Every role sees PHI, so every role needs MFA; kept explicit so a future role must decide.
SEES_PHI: set[Role] = set(Role)


def allows(role: str, perm: Perm) -> bool:
    return role in PERMISSIONS[perm]
