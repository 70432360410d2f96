"""The phone simulator's phones: which virtual phones a practice has, which of them a member
may see, and how a page names one without putting its number in a URL.

A phone is named by its blind index (a keyed HMAC of the number under the practice's index
key, the same value ``SimulatorEvent.number_index`` and ``ContactPoint.value_index`` hold):
opaque in a URL and in access logs, and meaningless to any other practice.

Who sees which phone
--------------------
A phone's page shows everything it sent and received. A patient's texts and calls carry
whatever the patient said — a stroke, a refill, a bill — before anyone has triaged it, so
they are clinical content: the simulator applies the inbox's rule for clinical content
(``inbox.visibility.is_clinical_role``: nurses and providers) together with the record's
own rule (``patients.access.access_to`` must be ``OPEN``; restricted records need
``VIEW_RESTRICTED``, which both clinical roles have). A break-glass grant opens a record,
not a patient's messages, as in the inbox. What reaches a staff phone is the practice's
notifications and pages, PHI-free by construction.

=============================  ===============  ==============  ==========================
phone                          nurse, provider  practice admin  agent, front desk,
                                                                scheduler, billing, practice
                                                                manager, compliance officer
=============================  ===============  ==============  ==========================
a patient's (number on file)   yes              no              no
not on file (typed, or texted  yes              no              no
by the practice)
the member's own (profile)     yes              yes             yes
another member's (profile)     no               yes             no
=============================  ===============  ==============  ==========================

- "practice admin" is any role with ``Perm.MANAGE_PRACTICE`` (the one that edits members'
  phone numbers); "nurse, provider" is ``accounts.roles.CLINICAL``.
- A number not on file may be a patient's who is not on file yet: what it sent is as
  clinical as a patient's text.
- A number on a patient's record is that patient's phone even when it is also in a member's
  profile (a household phone): its history may hold the patient's texts.
- A phone a member may not see answers 404 on every page and action, as a missing one does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, allows
from clinicline.inbox.visibility import is_clinical_role
from clinicline.patients import normalize
from clinicline.patients.access import Access, access_to
from clinicline.patients.models import ContactPoint, Patient
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.simulator import history
from clinicline.simulator.carrier import LIVE_ACCOUNT, SimulationRefused
from clinicline.simulator.models import SimulatorEvent

TOKEN = re.compile(r"[0-9a-f]{64}")
LISTED = 100  # patients' phones on the list page; any other opens by number
NO_GATEWAY = ("This server sends nothing through the loopback gateway and the practice has no "
              "test-mode gateway account, so there is nothing to simulate.")
# The kinds of phone (Phone.kind), the rows of the table above.
PATIENT, UNFILED, OWN, STAFF = "patient", "other", "own", "staff"


class SimulatorOff(SimulationRefused):
    """The simulator does not run for this practice at all (its gateway is live)."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


@dataclass(frozen=True)
class Phone:
    number: str
    token: str
    owner: str                 # whose phone, as the page names it
    kind: str                  # PATIENT, UNFILED, OWN, STAFF
    contact: ContactPoint | None = None

    @property
    def patient(self) -> Patient | None:
        return self.contact.patient if self.contact is not None else None


# --- who sees which phone ----------------------------------------------------------------

def sees_clinical_phones(membership: Membership, phone: Phone | None = None) -> bool:
    """Patients' phones and numbers not on file: what they sent is clinical content."""
    return is_clinical_role(membership.role)


def sees_patients_phone(membership: Membership, phone: Phone) -> bool:
    patient = phone.patient
    return (sees_clinical_phones(membership) and patient is not None
            and access_to(membership, patient) is Access.OPEN)


def sees_own_phone(membership: Membership, phone: Phone) -> bool:
    return True


def sees_staff_phones(membership: Membership, phone: Phone | None = None) -> bool:
    return allows(membership.role, Perm.MANAGE_PRACTICE)


SEES: dict[str, Callable[[Membership, Phone], bool]] = {
    PATIENT: sees_patients_phone, UNFILED: sees_clinical_phones, OWN: sees_own_phone,
    STAFF: sees_staff_phones,
}


def may_see(membership: Membership, phone: Phone) -> bool:
    return SEES[phone.kind](membership, phone)


def visible(membership: Membership, phones: list[Phone]) -> list[Phone]:
    return [phone for phone in phones if may_see(membership, phone)]


# --- the practice's phones -----------------------------------------------------------------

def phone_token(practice: Practice, number: str) -> str:
    return history.number_index(practice.pk, number)


def simulator_account(practice: Practice) -> GatewayAccount | None:
    """The practice's test-mode account; None when it has none but loopback still carries
    its messages. Raises SimulatorOff when the simulator must not run for it."""
    account = GatewayAccount.objects.filter(practice=practice).first()
    if account is not None and not account.test_mode:
        # Its messages go to real phones; a simulator here would also list real patients'
        # numbers to every member.
        raise SimulatorOff(LIVE_ACCOUNT)
    if account is None and not settings.LOOPBACK_GATEWAY:
        raise SimulatorOff(NO_GATEWAY)
    return account


def patient_phone(contact: ContactPoint) -> Phone:
    label = f" ({contact.label})" if contact.label else ""
    owner = f"{contact.patient.display_name} · patient{label}"
    return Phone(contact.value, contact.value_index, owner, PATIENT, contact)


def phone_contacts(practice: Practice) -> QuerySet[ContactPoint]:
    return (ContactPoint.objects.for_practice(practice).filter(kind=ContactPoint.Kind.PHONE)
            .select_related("patient").order_by("created_at"))


def patient_phones(membership: Membership, limit: int = LISTED) -> list[Phone]:
    if not sees_clinical_phones(membership):
        return []  # none would be shown: spare the query (and the decryption)
    contacts = phone_contacts(membership.practice)[:limit]
    return visible(membership, [patient_phone(c) for c in contacts])


def staff_phone(viewer: Membership, member: Membership) -> Phone | None:
    try:
        number = normalize.phone_e164(member.user.phone)
    except normalize.InvalidPhone:
        return None  # a typo in a profile is not a phone the simulator can ring
    name = member.user.get_full_name() or member.user.get_username()
    kind = OWN if member.user_id == viewer.user_id else STAFF
    return Phone(number, phone_token(viewer.practice, number),
                 f"{name} · {member.get_role_display()}", kind)


def all_staff_phones(membership: Membership) -> list[Phone]:
    """Members' profile phones, except numbers on a patient's record (those are patients')."""
    members = (Membership.objects.filter(practice=membership.practice_id)
               .exclude(user__phone="").select_related("user")
               .order_by("user__last_name", "user__first_name"))
    phones = [p for m in members if (p := staff_phone(membership, m)) is not None]
    patients = set(phone_contacts(membership.practice).order_by()
                   .filter(value_index__in=[p.token for p in phones])
                   .values_list("value_index", flat=True))
    return [phone for phone in phones if phone.token not in patients]


def staff_phones(membership: Membership) -> list[Phone]:
    return visible(membership, all_staff_phones(membership))


def unfiled_phone(practice: Practice, token: str) -> Phone | None:
    event = SimulatorEvent.objects.for_practice(practice).filter(number_index=token).first()
    return Phone(event.number, token, "not on file", UNFILED) if event is not None else None


def other_phones(membership: Membership) -> list[Phone]:
    """Numbers the simulator has seen (opened, or sent to) that are nobody's on file."""
    if not sees_clinical_phones(membership):
        return []
    practice = membership.practice
    staff = {phone.token for phone in all_staff_phones(membership)}
    patients = phone_contacts(practice).order_by().values("value_index")
    tokens = set(SimulatorEvent.objects.for_practice(practice).order_by()
                 .exclude(number_index__in=patients)
                 .values_list("number_index", flat=True).distinct()) - staff
    phones = [unfiled_phone(practice, token) for token in sorted(tokens)[:LISTED]]
    return [phone for phone in phones if phone is not None]


def unique(phones: list[Phone]) -> list[Phone]:
    """One entry per number: two patients may share a household phone."""
    by_token: dict[str, Phone] = {}
    for phone in phones:
        by_token.setdefault(phone.token, phone)
    return list(by_token.values())


# --- one phone ---------------------------------------------------------------------------

def identify(membership: Membership, token: str) -> Phone | None:
    """The practice's phone a token names, whoever may see it; None for no phone (and for a
    token of another practice's: it names nothing here)."""
    if not TOKEN.fullmatch(token):
        return None
    practice = membership.practice
    contact = phone_contacts(practice).filter(value_index=token).first()
    if contact is not None:
        return patient_phone(contact)
    staff = [p for p in all_staff_phones(membership) if p.token == token]
    return staff[0] if staff else unfiled_phone(practice, token)


def shown(membership: Membership, phone: Phone | None) -> Phone | None:
    return phone if phone is not None and may_see(membership, phone) else None


def find_phone(membership: Membership, token: str) -> Phone | None:
    """The phone a token names if this member may see it; None (a 404) otherwise."""
    return shown(membership, identify(membership, token))


def open_phone(membership: Membership, number: str) -> Phone | None:
    """The phone a typed number opens for this member, or None (a 404). A number nobody has
    on file gets a phone (an "open" row in its history) for members who see such phones."""
    token = phone_token(membership.practice, number)
    phone = identify(membership, token)
    if phone is None and sees_clinical_phones(membership):
        history.log_event(membership.practice_id, number, history.FROM_PHONE, history.OPEN)
        return Phone(number, token, "not on file", UNFILED)
    return shown(membership, phone)
