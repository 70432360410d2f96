"""The phone simulator's phones: which virtual phones a practice has, and how a page names
one without putting its number in a URL.

A phone is named by its blind index (a keyed HMAC of the number under the practice's index
key, the same value ``SimulatorEvent.number_index`` and ``ContactPoint.value_index`` hold):
opaque in a URL and in access logs, and meaningless to any other practice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from clinicline.accounts.models import Membership
from clinicline.gateways.models import GatewayAccount
from clinicline.patients import normalize
from clinicline.patients.access import Access, access_to
from clinicline.patients.models import ContactPoint, Patient
from clinicline.practices.models import Practice
from clinicline.simulator.carrier import LIVE_ACCOUNT, SimulationRefused
from clinicline.simulator.history import number_index
from clinicline.simulator.models import SimulatorEvent

TOKEN = re.compile(r"[0-9a-f]{64}")
LISTED = 100  # patients' phones on the list page; any other opens by number
NO_GATEWAY = ("This server sends nothing through the loopback gateway and the practice has no "
              "test-mode gateway account, so there is nothing to simulate.")


class SimulatorOff(SimulationRefused):
    """The simulator does not run for this practice at all (its gateway is live)."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


@dataclass(frozen=True)
class Phone:
    number: str
    token: str
    owner: str                 # whose phone, as far as this member may know
    kind: str                  # patient, staff, other
    contact: ContactPoint | None = None
    named: bool = False        # the owner's name is shown (the member may open the record)

    @property
    def patient(self) -> Patient | None:
        return self.contact.patient if self.contact is not None else None


def phone_token(practice: Practice, number: str) -> str:
    return number_index(practice.pk, number)


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


def patient_phone(membership: Membership, contact: ContactPoint) -> Phone:
    """The patient's name only for a member who may open the record (not billing's view of
    a restricted one, not the compliance officer's): anyone else sees just a number."""
    label = f" ({contact.label})" if contact.label else ""
    named = access_to(membership, contact.patient) is Access.OPEN
    owner = f"{contact.patient.display_name} · patient{label}" if named else f"a patient{label}"
    return Phone(contact.value, contact.value_index, owner, "patient", contact, named)


def patient_phones(membership: Membership, limit: int = LISTED) -> list[Phone]:
    contacts = (ContactPoint.objects.for_practice(membership.practice)
                .filter(kind=ContactPoint.Kind.PHONE).select_related("patient")
                .order_by("created_at")[:limit])
    return [patient_phone(membership, c) for c in contacts]


def staff_phones(practice: Practice) -> list[Phone]:
    phones = []
    members = (Membership.objects.filter(practice=practice).exclude(user__phone="")
               .select_related("user").order_by("user__last_name", "user__first_name"))
    for member in members:
        try:
            number = normalize.phone_e164(member.user.phone)
        except normalize.InvalidPhone:
            continue  # a typo in a profile is not a phone the simulator can ring
        name = member.user.get_full_name() or member.user.get_username()
        phones.append(Phone(number, phone_token(practice, number),
                            f"{name} · {member.get_role_display()}", "staff"))
    return phones


def other_phones(practice: Practice, staff: set[str]) -> list[Phone]:
    """Numbers the simulator has seen (opened, or sent to) that are nobody's on file."""
    patients = ContactPoint.objects.for_practice(practice).filter(kind=ContactPoint.Kind.PHONE)
    tokens = set(SimulatorEvent.objects.for_practice(practice).order_by()
                 .exclude(number_index__in=patients.values("value_index"))
                 .values_list("number_index", flat=True).distinct()) - staff
    phones = []
    for token in sorted(tokens)[:LISTED]:
        event = SimulatorEvent.objects.for_practice(practice).filter(number_index=token).first()
        if event is not None:
            phones.append(Phone(event.number, token, "not on file", "other"))
    return phones


def unique(phones: list[Phone]) -> list[Phone]:
    """One entry per number: two patients may share a household phone."""
    by_token: dict[str, Phone] = {}
    for phone in phones:
        by_token.setdefault(phone.token, phone)
    return list(by_token.values())


def find_phone(membership: Membership, token: str) -> Phone | None:
    """The practice's phone a token names, or None (a token of another practice's, too)."""
    practice = membership.practice
    if not TOKEN.fullmatch(token):
        return None
    contact = (ContactPoint.objects.for_practice(practice)
               .filter(kind=ContactPoint.Kind.PHONE, value_index=token)
               .select_related("patient").order_by("created_at").first())
    if contact is not None:
        return patient_phone(membership, contact)
    staff = [p for p in staff_phones(practice) if p.token == token]
    if staff:
        return staff[0]
    event = SimulatorEvent.objects.for_practice(practice).filter(number_index=token).first()
    return Phone(event.number, token, "not on file", "other") if event is not None else None
