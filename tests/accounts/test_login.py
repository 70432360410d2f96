"""Logging in: password, then TOTP; enrolment by QR code with recovery codes."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import User
from clinicline.audit.models import Action, AuditEvent
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.django_db


def test_password_then_totp_reaches_the_practice(client, nurse, practice):
    response = client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 302
    # Signed in, but not past MFA: every page sends us to the code, and back afterwards.
    home = reverse("practices:home", kwargs={"practice": practice.slug})
    assert client.get(home).url == f"{reverse('accounts:mfa_verify')}?next=%2Fp%2Friverside%2F"
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
    assert client.get(reverse("home")).url == f"{reverse('accounts:mfa_verify')}?next=%2F"


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


# --- the throttle after a wrong code ---------------------------------------------------

def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_right_code_right_after_a_wrong_one_is_told_to_wait_not_that_it_is_wrong(
        client, nurse):
    """django-otp refuses every code for a while after a failure; it says so."""
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        good = current_code(nurse)
        client.post(reverse("accounts:mfa_verify"), {"code": wrong(good)})
        response = client.post(reverse("accounts:mfa_verify"), {"code": good})
        assert response.status_code == 400
        body = response.content.decode()
        assert "Too many tries: wait 1 second, then try again" in body
        assert "not right" not in body
        event = AuditEvent.objects.filter(action=Action.MFA_FAILED).latest("seq")
        assert event.reason == "throttled for 1 s"
        clock.shift(dt.timedelta(seconds=1))
        response = client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == "/p/riverside/"  # past MFA, to the practice


def test_the_wait_doubles_with_each_wrong_code(client, nurse):
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):  # each after the last wait is over, so each counts
            client.post(reverse("accounts:mfa_verify"), {"code": wrong(current_code(nurse))})
            clock.shift(dt.timedelta(seconds=4))
        clock.shift(dt.timedelta(seconds=-4))
        response = client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    assert "wait 4 seconds" in response.content.decode()


def test_enrolment_says_so_too(client):
    User.objects.create_user("newhire", password=PASSWORD)
    client.post(reverse("accounts:login"), {"username": "newhire", "password": PASSWORD})
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(user__username="newhire", confirmed=False)
    with time_machine.travel(timezone.now(), tick=False):
        good = f"{totp(device.bin_key):06d}"
        client.post(reverse("accounts:mfa_enrol"), {"code": wrong(good)})
        response = client.post(reverse("accounts:mfa_enrol"), {"code": good})
    assert response.status_code == 400
    assert "Too many tries: wait 1 second" in response.content.decode()
    assert not TOTPDevice.objects.filter(user__username="newhire", confirmed=True).exists()


# --- a shared front-desk browser -------------------------------------------------------

def test_a_new_password_login_replaces_one_left_at_the_code(client, nurse, biller):
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    assert client.get(reverse("home")).url == f"{reverse('accounts:mfa_verify')}?next=%2F"
    # The biller sits down: the login page is a login page, not the nurse's code prompt.
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    response = client.post(reverse("accounts:login"),
                           {"username": "biller", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(biller.pk)
    assert client.post(reverse("accounts:mfa_verify"),
                       {"code": current_code(nurse)}).status_code == 400
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2), tick=False):
        assert client.post(reverse("accounts:mfa_verify"),
                           {"code": current_code(biller)}).status_code == 302
    ended = AuditEvent.objects.get(action=Action.LOGOUT, actor_id=nurse.pk)
    assert ended.reason == "replaced by another user's login before MFA"
    assert AuditEvent.objects.filter(action=Action.MFA_VERIFIED, actor_id=biller.pk).exists()
    assert not AuditEvent.objects.filter(action=Action.MFA_VERIFIED, actor_id=nurse.pk).exists()


def test_a_finished_login_still_skips_the_login_page(client, nurse):
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    assert client.get(reverse("accounts:login")).url == reverse("home")


def test_the_session_id_changes_at_the_password_and_again_at_the_code(client, nurse):
    client.get(reverse("accounts:login"))
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    after_password = client.cookies["sessionid"].value
    client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    after_code = client.cookies["sessionid"].value
    assert after_code != after_password
    assert not Session.objects.filter(session_key=after_password).exists()
    assert client.get(reverse("home")).url == "/p/riverside/"  # the new id is the verified one


def test_enrolment_changes_the_session_id_too(client):
    User.objects.create_user("newhire", password=PASSWORD)
    client.post(reverse("accounts:login"), {"username": "newhire", "password": PASSWORD})
    client.get(reverse("accounts:mfa_enrol"))
    before = client.cookies["sessionid"].value
    device = TOTPDevice.objects.get(user__username="newhire", confirmed=False)
    client.post(reverse("accounts:mfa_enrol"), {"code": f"{totp(device.bin_key):06d}"})
    assert client.cookies["sessionid"].value != before
    assert client.get(reverse("home")).status_code == 200  # no practice yet, but past MFA


def test_after_the_code_the_member_lands_where_they_were_going(client, nurse, practice):
    client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    going = reverse("inbox:index", kwargs={"practice": practice.slug})
    to_code = client.get(going).url
    response = client.post(to_code, {"code": current_code(nurse), "next": going})
    assert response.status_code == 302 and response.url == going

    # Only a path of this site: a full URL elsewhere lands on the home page instead.
    other = Client()
    other.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=nurse)
    next_code = totp(device.bin_key, step=device.step, t0=device.t0, digits=6, drift=1)
    response = other.post(reverse("accounts:mfa_verify"),
                          {"code": f"{next_code:06d}", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("home")
