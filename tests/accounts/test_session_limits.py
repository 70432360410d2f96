"""Lockout after repeated failures, idle logoff, the absolute lifetime, re-authentication."""

import datetime as dt

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from clinicline.audit.models import Action, AuditEvent
from tests.conftest import PASSWORD, current_code, phi_in_audit, signed_in

pytestmark = pytest.mark.django_db


def practice_home(practice) -> str:
    return reverse("practices:home", kwargs={"practice": practice.slug})


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, nurse):
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": "nurse", "password": "x"})
    response = client.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor_id=nurse.pk).count()
    assert failed >= 5
    assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor_id=nurse.pk).exists()


def test_a_failed_login_does_not_record_what_was_typed_as_username(client, nurse):
    client.post(reverse("accounts:login"), {"username": "hunter2-typed-here", "password": "x"})
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.actor_id is None
    assert phi_in_audit(event, ["hunter2"]) == []


def test_the_session_ends_after_the_practice_idle_limit(nurse, practice):
    practice.idle_timeout_minutes = 5
    practice.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _real_login(nurse)
        clock.shift(dt.timedelta(minutes=4))
        assert client.get(practice_home(practice)).status_code == 200
        clock.shift(dt.timedelta(minutes=4))  # 8 minutes in, but only 4 since the last page
        assert client.get(practice_home(practice)).status_code == 200
        clock.shift(dt.timedelta(minutes=5, seconds=1))
        response = client.get(practice_home(practice))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?expired=1"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action=Action.SESSION_TIMEOUT)
    assert (event.actor_id, event.reason) == (nurse.pk, "idle")


def test_passive_refreshes_do_not_keep_an_idle_session_alive(nurse, practice):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _real_login(nurse)
        for _ in range(3):
            clock.shift(dt.timedelta(minutes=4))
            passive = client.get(practice_home(practice), headers={"X-Clinicline-Passive": "1"})
            assert passive.status_code == 200
        clock.shift(dt.timedelta(minutes=4))  # 16 minutes since the member last did anything
        response = client.get(practice_home(practice))
    assert response.status_code == 302
    assert "expired=1" in response.url


def test_the_strictest_idle_limit_of_a_members_practices_applies(nurse, practice, other_practice):
    from clinicline.accounts.models import Membership  # noqa: PLC0415 (test-local setup)

    other_practice.idle_timeout_minutes = 2
    other_practice.save()
    Membership.objects.create(user=nurse, practice=other_practice, role="nurse")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _real_login(nurse)
        assert client.session["idle_s"] == 120
        clock.shift(dt.timedelta(minutes=3))
        assert client.get(practice_home(practice)).status_code == 302


@override_settings(SESSION_ABSOLUTE_HOURS=1)
def test_the_session_ends_at_its_absolute_lifetime_however_active(nurse, practice):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _real_login(nurse)
        for _ in range(6):
            clock.shift(dt.timedelta(minutes=10))
            assert client.get(practice_home(practice)).status_code == 200
        clock.shift(dt.timedelta(minutes=1))
        response = client.get(practice_home(practice))
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=Action.SESSION_TIMEOUT).reason == "absolute lifetime"


def test_sensitive_actions_ask_for_password_and_code_again(nurse, practice, patient):
    patient.restricted = False
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(nurse)
        target = reverse("accounts:recovery_codes")
        assert client.get(target).status_code == 200  # just logged in: recent enough
        clock.shift(dt.timedelta(minutes=6))
        response = client.get(target)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:reauth"))
        wrong = client.post(response.url, {"password": "nope", "code": current_code(nurse)})
        assert wrong.status_code == 400
        right = client.post(response.url, {"password": PASSWORD, "code": current_code(nurse),
                                           "next": target})
        assert right.status_code == 302 and right.url == target
        assert client.get(target).status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Action.REAUTH, Action.REAUTH_FAILED} <= actions


def _real_login(user):
    from django.test import Client  # noqa: PLC0415

    client = Client()
    assert client.post(reverse("accounts:login"),
                       {"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.post(reverse("accounts:mfa_verify"),
                       {"code": current_code(user)}).status_code == 302
    return client
