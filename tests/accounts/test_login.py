"""Logging in: password, then TOTP; enrolment by QR code with recovery codes."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import User
from clinicline.audit.models import Action, AuditEvent
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.django_db


def test_password_then_totp_reaches_the_practice(client, nurse, practice):
    response = client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 302
    # Signed in, but not past MFA: every page sends us to the code.
    assert client.get(reverse("practices:home", kwargs={"practice": practice.slug})).url == \
        reverse("accounts:mfa_verify")
    response = client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    assert response.status_code == 302
    page = client.get(reverse("practices:home", kwargs={"practice": practice.slug}))
    assert page.status_code == 200
    assert practice.name in page.content.decode()
    actions = list(AuditEvent.objects.filter(actor_id=nurse.pk).values_list("action", flat=True))
    assert actions == [Action.LOGIN, Action.MFA_VERIFIED]


def test_a_wrong_code_is_refused_and_audited(client, nurse):
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    good = current_code(nurse)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:mfa_verify"), {"code": bad})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.MFA_FAILED, actor_id=nurse.pk).count() == 1
    assert client.get(reverse("home")).url == reverse("accounts:mfa_verify")


def test_passwords_are_hashed_with_argon2(nurse):
    assert User.objects.get(pk=nurse.pk).password.startswith("argon2")


def test_a_new_user_enrols_by_qr_code_and_gets_recovery_codes(client, practice):
    user = User.objects.create_user("newhire", password=PASSWORD)
    client.post(reverse("accounts:login"), {"username": "newhire", "password": PASSWORD})
    assert client.get(reverse("accounts:mfa_verify")).url == reverse("accounts:mfa_enrol")
    page = client.get(reverse("accounts:mfa_enrol")).content.decode()
    assert 'src="data:image/svg+xml' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:mfa_enrol"), {"code": code})
    codes = re.findall(r"<li>([a-z0-9]{8,})</li>", response.content.decode())
    assert len(codes) == 10
    assert AuditEvent.objects.filter(action=Action.MFA_ENROL, actor_id=user.pk).exists()
    # A recovery code works once, in place of the authenticator.
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "newhire", "password": PASSWORD})
    assert client.post(reverse("accounts:mfa_verify"), {"code": codes[0]}).status_code == 302
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "newhire", "password": PASSWORD})
    assert client.post(reverse("accounts:mfa_verify"), {"code": codes[0]}).status_code == 400
    assert AuditEvent.objects.filter(action=Action.RECOVERY_USED, actor_id=user.pk).count() == 1
