"""The demo practice: Riverside Family Medicine, its staff, teams, test-mode gateway and the
drill patients."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.env import dev_secret
from clinicline.inbox.models import Message, Source
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import contacts
from clinicline.oncall.models import (
    ContactMethod,
    Layer,
    NotificationRule,
    Rotation,
    RotationMember,
    Schedule,
)
from clinicline.patients import service as patients
from clinicline.practices.models import DEFAULT_TEAMS, GatewayAccount, Practice, Provider, Team

SLUG = "demo"
# username, first, last, role, provider display name
STAFF = [
    ("osei", "Amara", "Osei", Role.PROVIDER, "Dr. Amara Osei"),
    ("ferreira", "Luis", "Ferreira", Role.PROVIDER, "Dr. Luis Ferreira"),
    ("kim", "Hannah", "Kim", Role.PROVIDER, "Dr. Hannah Kim"),
    ("agent", "Jordan", "Reyes", Role.AGENT, None),
    ("frontdesk", "Casey", "Nguyen", Role.FRONT_DESK, None),
    ("nurse", "Morgan", "Adeyemi", Role.NURSE, None),
    ("billing", "Taylor", "Brooks", Role.BILLING, None),
    ("scheduler", "Riley", "Park", Role.SCHEDULER, None),
    ("manager", "Avery", "Coleman", Role.PRACTICE_MANAGER, None),
    ("admin", "Quinn", "Harper", Role.PRACTICE_ADMIN, None),
    ("compliance", "Sam", "Whitaker", Role.COMPLIANCE_OFFICER, None),
]
# Everyone named in the drill scenarios (shared/scenarios/*.yaml), and a restricted record.
PATIENTS = [
    ("Walter", "Okafor", dt.date(1958, 4, 2), "+16175550142", "RFM-100142", False),
    ("Gregory", "Tamm", dt.date(1966, 9, 14), "+14155552671", "RFM-100271", False),
    ("Dolores", "Whitfield", dt.date(1949, 1, 23), "+17735550123", "RFM-100123", False),
    ("Marcus", "Bell", dt.date(1971, 11, 19), "+12025550173", "RFM-100173", False),
    ("Priya", "Raman", dt.date(1990, 6, 8), "+12125550187", "RFM-100187", False),
    ("Elena", "Marsh", dt.date(1984, 3, 30), "+16175550199", "RFM-100199", True),
]


def demo_password() -> str:
    """Each install's demo gets its own password, kept in the data dir."""
    return dev_secret(settings.DATA_DIR / "demo_password",
                      lambda: "demo-" + secrets.token_urlsafe(9), "demo password",
                      "`clinicline login-help` prints it")


def demo_voice_pin() -> str:
    """The on-call members' voice PIN, one per install like the password (login-help
    prints it)."""
    return dev_secret(settings.DATA_DIR / "demo_voice_pin", new_voice_pin, "demo voice PIN",
                      "`clinicline login-help` prints it")


def new_voice_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(10 ** 6):06d}"
        if not contacts.pin_problem(pin):
            return pin


@transaction.atomic
def create_demo() -> Practice:
    practice, _ = Practice.objects.get_or_create(slug=SLUG, defaults={
        "name": "Riverside Family Medicine", "time_zone": "America/New_York",
        "callback_number": "+16175550100", "front_desk_number": "+16175550101"})
    # Twilio in test mode: inbound webhooks are checked with this token, outbound texts and
    # calls go to the phone simulator. Signed requests can be tried against a local server.
    GatewayAccount.objects.get_or_create(practice=practice, defaults={
        "phone_number": practice.callback_number, "account_sid": "AC" + "0" * 32,
        "auth_token": settings.DEMO_TWILIO_AUTH_TOKEN, "test_mode": True})
    for slug, (name, work) in DEFAULT_TEAMS.items():
        Team.objects.get_or_create(practice=practice, slug=slug,
                                   defaults={"name": name, "work": work})
    password = demo_password()
    for username, first, last, role, provider_name in STAFF:
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@riverside.example"})
        if created:
            user.set_password(password)
            user.save()
            TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
        Membership.objects.get_or_create(user=user, practice=practice, defaults={"role": role})
        if provider_name:
            Provider.objects.get_or_create(practice=practice, display_name=provider_name,
                                           defaults={"user": user})
    for given, family, dob, phone, mrn, restricted in PATIENTS:
        if patients.find_by_name_dob(practice, given, family, dob):
            continue
        patient = patients.create_patient(practice, given_name=given, family_name=family,
                                          date_of_birth=dob, mrn=mrn, restricted=restricted)
        patients.add_contact(patient, "phone", phone, label="mobile",
                             verified_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    if not Message.objects.for_practice(practice).exists():
        leave_messages(practice)
    plan_on_call(practice)
    reach_on_call(practice)
    return practice


# The on-call staff's mobiles, verified: a page reaches them on the phone simulator.
ON_CALL_PHONES = {"osei": "+16175550190", "ferreira": "+16175550191", "kim": "+16175550192",
                  "nurse": "+16175550193", "manager": "+16175550194"}
# Those on the schedule are also called a minute after the text (the call asks for the
# demo voice PIN before it says anything), so a voice page can be tried in the simulator.
CALLED_AFTER_S = 60


def reach_on_call(practice: Practice) -> None:
    verified = {"verified_at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC)}
    on_call = on_call_members()
    for username, number in ON_CALL_PHONES.items():
        user = User.objects.get(username=username)
        sms, _ = ContactMethod.objects.get_or_create(
            user=user, kind=ContactMethod.Kind.SMS, address=number, defaults=verified)
        if username not in on_call or contacts.voice_pin(user) is not None:
            continue
        voice, _ = ContactMethod.objects.get_or_create(
            user=user, kind=ContactMethod.Kind.VOICE, address=number, defaults=verified)
        in_app = contacts.methods(user)[0]
        for method, delay in ((in_app, 0), (sms, 0), (voice, CALLED_AFTER_S)):
            NotificationRule.objects.get_or_create(user=user, method=method, delay_s=delay)
        contacts.set_pin(user, demo_voice_pin())


# The demo's after-hours schedule: the providers take a week each, handing off Monday 08:00;
# the nurse is the backup throughout. It starts on a Monday long past, so it is always on.
ON_CALL_FROM = dt.date(2025, 1, 6)
ON_CALL = {1: ["osei", "ferreira", "kim"], 2: ["nurse"]}


def on_call_members() -> list[str]:
    """Everyone on the demo's schedule, at any level."""
    return [name for names in ON_CALL.values() for name in names]


def plan_on_call(practice: Practice) -> None:
    schedule, created = Schedule.objects.get_or_create(practice=practice, name="After hours")
    if not created:
        return
    for level, usernames in ON_CALL.items():
        layer = Layer.objects.create(schedule=schedule, level=level)
        rotation = Rotation.objects.create(layer=layer, kind=Rotation.Kind.WEEKLY,
                                           handoff_time=dt.time(8, 0), starts_on=ON_CALL_FROM)
        RotationMember.objects.bulk_create(
            RotationMember(rotation=rotation, user=User.objects.get(username=name), position=n)
            for n, name in enumerate(usernames))


# What the inbox holds on a fresh demo: the routine drills, as if taken the evening before.
MESSAGES: list[tuple[str, Source, dict[str, Any]]] = [
    ("refill", Source.VOICEMAIL, {
        "patient_name": "Marcus Bell", "date_of_birth": dt.date(1971, 11, 19),
        "callback_number": "+12025550173", "medication": "lisinopril 20 mg",
        "pharmacy": "Walgreens on Main Street", "days_left": 5}),
    ("billing", Source.AGENT, {
        "patient_name": "Dolores Whitfield", "callback_number": "+17735550123",
        "account_number": "ACCT-448213",
        "question": "Charged twice for the October visit; insurance already paid."}),
    ("complaint", Source.AGENT, {
        "patient_name": "Gregory Tamm", "callback_number": "+14155552671",
        "complaint": "Waited two hours last Tuesday, front desk was rude, wants the doctor "
                     "to call him personally today."}),
    ("new-patient", Source.AGENT, {
        "patient_name": "Priya Raman", "callback_number": "+12125550187",
        "preferred_times": "weekday mornings"}),
]


def leave_messages(practice: Practice) -> None:
    call_types = call_types_for(practice)
    for slug, source, fields in MESSAGES:
        call_type = call_types.get(slug)
        if call_type is None:  # the default call types have every slug above
            raise LookupError(f"the demo's call type {slug!r} is not in force")
        take_message(practice, call_type, fields, source=source)
