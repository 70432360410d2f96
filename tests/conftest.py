"""Shared personas and helpers. Tests run on a real database: SQLite, or PostgreSQL when
DATABASE_URL says so (CI does both)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.audit.models import AuditEvent
from clinicline.patients import service as patients
from clinicline.practices.models import Practice
from clinicline.vault.keyring import keyring
from tests.gateways.twilio_numbers import SITE, Twilio

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_keyring():
    """Unwrapped keys are cached per process; each test's database starts empty."""
    keyring.clear()
    yield
    keyring.clear()


def make_practice(slug: str = "riverside", name: str = "Riverside Family Medicine") -> Practice:
    return Practice.objects.create(slug=slug, name=name, time_zone="America/New_York",
                                   callback_number="+16175550100")


def make_member(practice: Practice, role: Role, username: str | None = None,
                email: str = "") -> User:
    user = User.objects.create_user(username or f"{role}-{practice.slug}", password=PASSWORD,
                                    email=email)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    Membership.objects.create(user=user, practice=practice, role=role)
    return user


def current_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def signed_in(user: User, client: Client | None = None) -> Client:
    """A client past password and MFA, as if the user had just logged in.

    The full login (password, TOTP, lockout) has its own tests; this skips to the state
    they end in, so other tests do not each pay for an argon2 hash.
    """
    client = client or Client()
    client.force_login(user)
    session = client.session
    now = timezone.now().timestamp()
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.update({"started_at": now, "last_seen": now, "idle_s": 15 * 60, "reauth_at": now})
    session.save()
    return client


def make_patient(practice: Practice, given: str = "Walter", family: str = "Okafor",
                 dob: dt.date = dt.date(1958, 4, 2), phone: str = "+16175550142", **extra):
    return patients.create_patient(practice, given_name=given, family_name=family,
                                   date_of_birth=dob, phones=[phone] if phone else [], **extra)


@pytest.fixture
def practice(db) -> Practice:
    return make_practice()


@pytest.fixture
def other_practice(db) -> Practice:
    return make_practice("lakeside", "Lakeside Pediatrics")


@pytest.fixture
def patient(practice):
    return make_patient(practice, mrn="RFM-100142")


@pytest.fixture
def nurse(practice) -> User:
    return make_member(practice, Role.NURSE, "nurse")


@pytest.fixture
def biller(practice) -> User:
    return make_member(practice, Role.BILLING, "biller")


@pytest.fixture
def agent(practice) -> User:
    return make_member(practice, Role.AGENT, "agent")


@pytest.fixture
def compliance_officer(practice) -> User:
    return make_member(practice, Role.COMPLIANCE_OFFICER, "compliance",
                       email="compliance@riverside.example")


@pytest.fixture
def other_admin(other_practice) -> User:
    """A second practice's admin: must never see anything of the first practice."""
    return make_member(other_practice, Role.PRACTICE_ADMIN, "lakeside-admin")


# The columns of an audit row that hold words; the others are times, hashes and ids, in
# which a secret of digits ("1958") turns up by chance (a timestamp's microseconds).
AUDIT_WORDS = ("actor_label", "object_type", "fields", "ip", "user_agent", "reason",
               "action", "outcome")
OPAQUE_ID = re.compile(r"[0-9a-f-]*|\d*")


def phi_in_audit(event: AuditEvent, secrets: tuple[str, ...] | list[str]) -> list[str]:
    """The ``secrets`` an audit row holds. Its ids must be opaque ids, never values."""
    assert OPAQUE_ID.fullmatch(event.object_id), event.object_id
    assert OPAQUE_ID.fullmatch(event.patient_id), event.patient_id
    words = " ".join(str(getattr(event, name)) for name in AUDIT_WORDS)
    return [secret for secret in secrets if secret in words]


@pytest.fixture
def twilio_numbers() -> Iterator[tuple[Twilio, mock.MagicMock]]:
    """Twilio's API for a practice number (tests/gateways/twilio_numbers.py), the one fake
    at ``TwilioHttpClient.request``, with SITE_URL set to the public site."""
    api = Twilio()
    with mock.patch("twilio.http.http_client.TwilioHttpClient.request", autospec=True,
                    side_effect=api) as request, override_settings(SITE_URL=SITE):
        yield api, request
