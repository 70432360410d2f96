"""The on-call provider's voice PIN: set on the "How to reach me" page, kept only as a salted
hash, refused when it is easy to guess, and locked for 15 minutes after 5 wrong tries in a
row. The digits are a secret: never stored, logged, audited or put in a URL."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.demo.seed import create_demo, demo_voice_pin
from clinicline.oncall import contacts
from clinicline.oncall.contacts import ContactError
from clinicline.oncall.models import ContactMethod, VoicePin
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

PIN = "4827"
T0 = dt.datetime(2026, 12, 5, 7, 10, tzinfo=dt.UTC)


@pytest.fixture
def provider(practice):
    return make_member(practice, Role.PROVIDER, "osei")


def url(practice) -> str:
    return reverse("oncall:voice_pin", kwargs={"practice": practice.slug})


def every_stored_value() -> str:
    """Every column of the PIN's table and the audit trail, as text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {VoicePin._meta.db_table}")  # noqa: S608 (fixed)
        rows = cursor.fetchall()
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")  # noqa: S608 (fixed)
        rows += cursor.fetchall()
    return repr(rows)


def test_the_pin_is_kept_only_as_a_salted_hash(provider):
    contacts.set_pin(provider, PIN)
    contacts.set_pin(make_member(provider.memberships.get().practice, Role.NURSE, "nurse"), PIN)
    first, second = VoicePin.objects.order_by("pk")
    assert first.pin_hash != second.pin_hash  # salted: the same PIN, two hashes
    assert PIN not in every_stored_value()
    assert contacts.check_pin(provider, PIN) and not contacts.check_pin(provider, "4828")


@pytest.mark.parametrize("digits,problem", [
    ("1111", "one digit repeated"), ("00000000", "one digit repeated"),
    ("1234", "run of digits"), ("4321", "run of digits"), ("7890", "run of digits"),
    ("345678", "run of digits"), ("123", "4 to 8 digits"), ("123456789", "4 to 8 digits"),
    ("48a7", "4 to 8 digits"), ("４８２７", "4 to 8 digits"), ("", "4 to 8 digits"),
])
def test_easy_or_malformed_pins_are_refused(provider, digits, problem):
    with pytest.raises(ContactError, match=problem):
        contacts.set_pin(provider, digits)
    assert not VoicePin.objects.exists()


@pytest.mark.parametrize("digits", ["4827", "1357", "2468", "12345670", "0192"])
def test_ordinary_pins_are_taken(provider, digits):
    contacts.set_pin(provider, digits)
    assert contacts.check_pin(provider, digits)


def test_five_wrong_tries_in_a_row_lock_the_pin_for_15_minutes(practice, provider):
    contacts.set_pin(provider, PIN)
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            assert not contacts.check_pin(provider, "0000", practice=practice)
        assert contacts.check_pin(provider, PIN)  # a right one starts the count again
        for _ in range(5):
            assert not contacts.check_pin(provider, "0000", practice=practice)
        # Locked: even the right PIN is not right now.
        assert not contacts.check_pin(provider, PIN)
        [locked] = AuditEvent.objects.filter(action=Action.VOICE_PIN_LOCKED)
        assert (locked.outcome, locked.actor_id, locked.practice_id) == (
            Outcome.DENIED, provider.pk, practice.pk)
    with time_machine.travel(T0 + dt.timedelta(minutes=14, seconds=59), tick=False):
        assert not contacts.check_pin(provider, PIN)
    with time_machine.travel(T0 + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert contacts.check_pin(provider, PIN)
    assert AuditEvent.objects.filter(action=Action.VOICE_PIN_LOCKED).count() == 1


def test_a_member_without_a_pin_has_none_to_match(provider):
    assert not contacts.check_pin(provider, PIN)
    assert not VoicePin.objects.exists()


def test_setting_a_new_pin_unlocks_it(provider):
    contacts.set_pin(provider, PIN)
    for _ in range(5):
        contacts.check_pin(provider, "0000")
    contacts.set_pin(provider, "5813")
    assert contacts.check_pin(provider, "5813") and not contacts.check_pin(provider, PIN)


# --- the page ----------------------------------------------------------------------------------

def test_the_member_sets_a_pin_on_their_page_and_it_is_audited_without_the_digits(
        practice, provider, caplog):
    client = signed_in(provider)
    page = reverse("oncall:contacts", kwargs={"practice": practice.slug})
    assert "You have not set one yet" in client.get(page).content.decode()
    with caplog.at_level(logging.DEBUG):
        response = client.post(url(practice), {"pin": PIN, "pin_again": PIN}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "Your voice PIN is set" in html
    assert "Change my voice PIN" in html and PIN not in html
    assert contacts.check_pin(provider, PIN)
    [event] = AuditEvent.objects.filter(action=Action.VOICE_PIN_SET)
    assert (event.actor_id, event.reason) == (provider.pk, "set")
    assert PIN not in caplog.text and PIN not in every_stored_value()
    client.post(url(practice), {"pin": "5813", "pin_again": "5813"})
    assert AuditEvent.objects.filter(action=Action.VOICE_PIN_SET).last().reason == "changed"


@pytest.mark.parametrize("data,message", [
    ({"pin": "1234", "pin_again": "1234"}, "A run of digits such as 1234 is easy to guess"),
    ({"pin": "7777", "pin_again": "7777"}, "one digit repeated"),
    ({"pin": "48a7", "pin_again": "48a7"}, "A voice PIN is 4 to 8 digits"),
    ({"pin": PIN, "pin_again": "4828"}, "The two PINs are not the same."),
    ({"pin": "", "pin_again": ""}, "Enter the PIN twice."),
])
def test_a_refused_pin_is_a_400_with_the_reason_and_nothing_saved(practice, provider, data,
                                                                  message):
    response = signed_in(provider).post(url(practice), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not VoicePin.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.VOICE_PIN_SET).exists()


def test_a_locked_pin_says_so_on_the_page(practice, provider):
    contacts.set_pin(provider, PIN)
    VoicePin.objects.update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    page = reverse("oncall:contacts", kwargs={"practice": practice.slug})
    assert "Locked after too many wrong tries" in signed_in(provider).get(page).content.decode()


# --- the demo ----------------------------------------------------------------------------------

def test_the_demos_on_call_members_have_the_demo_pin_and_a_voice_number(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    create_demo()
    create_demo()  # idempotent
    pin = demo_voice_pin()
    assert not contacts.pin_problem(pin)
    pins = VoicePin.objects.select_related("user")
    assert sorted(p.user.username for p in pins) == ["ferreira", "kim", "nurse", "osei"]
    assert all(contacts.check_pin(p.user, pin) for p in pins)
    assert ContactMethod.objects.filter(kind="voice", verified_at__isnull=False).count() == 4
    out = io.StringIO()
    call_command("login_help", stdout=out)
    assert f"in the phone simulator: {pin}" in out.getvalue()
