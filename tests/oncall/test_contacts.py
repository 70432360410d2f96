"""A member's contact methods: the nurse adds her mobile, proves it is hers with the code
texted to it, and says in which order a page tries her methods. The code is a secret: it
is never logged, never in an audit row or a URL, and sealed in the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.oncall import contacts
from clinicline.oncall.contacts import ContactError, Kind, TooManyCodes
from clinicline.oncall.models import ContactMethod, NotificationRule
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

MOBILE = "+16175550199"


@pytest.fixture
def nurse(practice):
    return make_member(practice, Role.NURSE, "nurse")


@pytest.fixture
def mobile(nurse) -> ContactMethod:
    return contacts.add(nurse, Kind.SMS, "(617) 555-0199")


def url(practice, name: str, **kwargs) -> str:
    return reverse(f"oncall:{name}", kwargs={"practice": practice.slug, **kwargs})


def last_code() -> str:
    """The code in the newest delivery, as the member's phone shows it."""
    body = Delivery.objects.order_by("-created_at").first().body
    return re.search(r"code is ([\d, ]+?)\.", body).group(1).replace(", ", "")


def test_a_number_is_normalised_and_unusable_until_verified(nurse, mobile):
    assert mobile.address == MOBILE
    assert not mobile.usable
    assert mobile not in contacts.reachable(nurse)
    assert [m.kind for m in contacts.reachable(nurse)] == [Kind.IN_APP]


def test_the_code_texted_to_the_number_verifies_it(practice, nurse, mobile):
    contacts.send_code(mobile, practice)
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.to, delivery.purpose) == ("sms", MOBILE,
                                                                 contacts.PURPOSE)
    assert re.fullmatch(r"Your clinicline verification code is \d{6}\. It expires in 10 "
                        r"minutes\.", delivery.body)
    assert outbox.refused(delivery) == []  # the outbox's last screen lets it through
    contacts.verify(mobile, last_code())
    mobile.refresh_from_db()
    assert mobile.usable and mobile.code_hash == ""
    assert mobile in contacts.reachable(nurse)


def test_a_voice_code_is_read_out_digit_by_digit_twice(practice, nurse):
    landline = contacts.add(nurse, Kind.VOICE, "617-555-0123")
    contacts.send_code(landline, practice)
    body = Delivery.objects.get().body
    digits = re.findall(r"code is ((?:\d, ){5}\d)\. Again: \1\.", body)
    assert digits and outbox.refused(Delivery.objects.get()) == []
    contacts.verify(landline, digits[0].replace(", ", ""))
    assert ContactMethod.objects.get(pk=landline.pk).usable


def test_the_code_is_kept_only_as_a_keyed_hash_and_sealed_in_the_outbox(practice, mobile):
    contacts.send_code(mobile, practice)
    code = last_code()
    mobile.refresh_from_db()
    assert code not in mobile.code_hash and len(mobile.code_hash) == 64
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body, {connection.ops.quote_name('to')} "  # noqa: S608
                       f"FROM {Delivery._meta.db_table}")
        body, to = cursor.fetchone()
    assert code not in str(body) and MOBILE not in str(to)


def test_an_expired_code_is_refused(practice, mobile):
    contacts.send_code(mobile, practice)
    code = last_code()
    later = timezone.now() + contacts.CODE_LIFETIME + dt.timedelta(seconds=1)
    with pytest.raises(ContactError, match="That code has expired. Send a new one."):
        contacts.verify(mobile, code, now=later)
    assert not ContactMethod.objects.get(pk=mobile.pk).usable


def test_a_wrong_code_says_how_many_tries_are_left(practice, mobile):
    contacts.send_code(mobile, practice)
    wrong = f"{(int(last_code()) + 1) % 10 ** 6:06d}"
    with pytest.raises(ContactError, match="That code is not right. 4 tries left."):
        contacts.verify(mobile, wrong)


def test_five_wrong_tries_spend_the_code_and_the_sixth_is_refused(practice, mobile):
    contacts.send_code(mobile, practice)
    code = last_code()
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(ContactError, match=f"{left} tr"):
            contacts.verify(mobile, wrong)
    with pytest.raises(ContactError, match="That was the last try: send a new code."):
        contacts.verify(mobile, wrong)
    with pytest.raises(ContactError, match="no longer works after 5 wrong tries"):
        contacts.verify(mobile, code)  # the right one, too late
    assert not ContactMethod.objects.get(pk=mobile.pk).usable
    contacts.send_code(mobile, practice)  # a new code starts the tries again
    contacts.verify(mobile, last_code())
    assert ContactMethod.objects.get(pk=mobile.pk).usable


def test_a_new_code_replaces_the_last_one(practice, mobile):
    contacts.send_code(mobile, practice)
    first = last_code()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5)):
        contacts.send_code(mobile, practice)
        second = last_code()
    if first != second:  # one in a million they are the same
        with pytest.raises(ContactError, match="not right"):
            contacts.verify(mobile, first)
    contacts.verify(mobile, second)


def test_a_fourth_code_in_an_hour_is_refused_and_the_next_hour_allows_it(practice, mobile):
    start = timezone.now()
    for _ in range(3):
        contacts.send_code(mobile, practice, now=start)
    with pytest.raises(TooManyCodes, match="3 codes have been sent to this in the last hour"):
        contacts.send_code(mobile, practice, now=start + dt.timedelta(minutes=59))
    assert Delivery.objects.count() == 3
    contacts.send_code(mobile, practice, now=start + dt.timedelta(minutes=61))
    assert Delivery.objects.count() == 4


def test_in_app_is_always_there_and_cannot_be_removed_or_verified(practice, nurse):
    in_app = contacts.methods(nurse)[0]
    assert (in_app.kind, in_app.usable) == (Kind.IN_APP, True)
    with pytest.raises(ContactError, match="always on"):
        contacts.remove(in_app)
    with pytest.raises(ContactError, match="need no code"):
        contacts.send_code(in_app, practice)


@pytest.mark.parametrize("kind,address,message", [
    (Kind.SMS, "call me", "That is not a phone number we can reach"),
    (Kind.SMS, "555-0199", "That is not a phone number we can reach"),
    (Kind.VOICE, "+1 617 555 01999", "That is not a phone number we can reach"),
    (Kind.EMAIL, "nurse at riverside", "That is not an email address."),
])
def test_a_bad_address_is_refused(nurse, kind, address, message):
    with pytest.raises(ContactError, match=message):
        contacts.add(nurse, kind, address)


def test_the_same_number_twice_is_refused(nurse, mobile):
    with pytest.raises(ContactError, match="You have that one already."):
        contacts.add(nurse, Kind.SMS, "617.555.0199")


def verified(method: ContactMethod) -> ContactMethod:
    ContactMethod.objects.filter(pk=method.pk).update(verified_at=timezone.now())
    method.refresh_from_db()
    return method


def test_without_rules_every_usable_method_goes_at_once(nurse, mobile):
    voice = verified(contacts.add(nurse, Kind.VOICE, "+16175550123"))
    assert [(d, m.kind) for d, m in contacts.plan(nurse)] == [(0, Kind.IN_APP), (0, Kind.VOICE)]
    assert voice.pk in {m.pk for m in contacts.reachable(nurse)}


def test_rules_order_the_methods_and_skip_unverified_ones(nurse, mobile):
    """In-app and SMS at once, a voice call after 60 s, again after 3 min."""
    in_app = contacts.methods(nurse)[0]
    verified(mobile)
    voice = verified(contacts.add(nurse, Kind.VOICE, "+16175550123"))
    email = contacts.add(nurse, Kind.EMAIL, "Nurse@Riverside.example")
    for method, delay in [(voice, 180), (in_app, 0), (mobile, 0), (voice, 60), (email, 0)]:
        contacts.set_rule(nurse, method, delay)
    assert [(d, m.kind) for d, m in contacts.plan(nurse)] == [
        (0, Kind.IN_APP), (0, Kind.SMS), (60, Kind.VOICE), (180, Kind.VOICE)]


def test_a_deactivated_member_is_reachable_by_nothing(nurse, mobile):
    verified(mobile)
    nurse.is_active = False
    nurse.save()
    assert contacts.reachable(nurse) == [] and contacts.plan(nurse) == []


def test_a_rule_must_name_ones_own_method(practice, nurse, mobile):
    other = make_member(practice, Role.PROVIDER, "provider")
    with pytest.raises(ContactError, match="not one of your contact methods"):
        contacts.set_rule(other, mobile, 0)
    with pytest.raises(ContactError, match="0 to 3600"):
        contacts.set_rule(nurse, mobile, 3601)


def test_members_with_a_verified_phone(practice, nurse, mobile):
    provider = make_member(practice, Role.PROVIDER, "provider")
    assert contacts.with_verified_phone([nurse.pk, provider.pk]) == set()
    verified(mobile)
    verified(contacts.add(provider, Kind.EMAIL, "provider@riverside.example"))
    assert contacts.with_verified_phone([nurse.pk, provider.pk]) == {nurse.pk}


# The page.

def test_the_nurse_adds_and_verifies_her_mobile_on_the_page(practice, nurse, caplog):
    caplog.set_level(logging.DEBUG)
    client = signed_in(nurse)
    page = client.get(url(practice, "contacts"))
    assert page.status_code == 200 and "In-app notice" in page.content.decode()
    response = client.post(url(practice, "contact_add"),
                           {"kind": "sms", "address": "(617) 555-0199"})
    assert response.status_code == 302
    mobile = ContactMethod.objects.get(user=nurse, kind=Kind.SMS)
    assert client.post(url(practice, "contact_send_code", method_id=mobile.pk)).status_code \
        == 302
    code = last_code()
    page = client.get(url(practice, "contacts")).content.decode()
    assert "A code is on its way to +16175550199" in page and code not in page
    response = client.post(url(practice, "contact_verify", method_id=mobile.pk), {"code": code})
    assert response.status_code == 302 and code not in response["Location"]
    assert ContactMethod.objects.get(pk=mobile.pk).usable
    assert "Verified: clinicline can now reach you at +16175550199" in \
        client.get(url(practice, "contacts")).content.decode()
    # The worker sends it: still nowhere in a log line, an audit row or the log records.
    outbox.send_due()
    assert code not in caplog.text and MOBILE not in caplog.text
    for event in AuditEvent.objects.all():
        row = " ".join(str(getattr(event, f.name)) for f in AuditEvent._meta.fields)
        assert code not in row and MOBILE not in row
    assert list(AuditEvent.objects.filter(action=Action.CONTACT_VERIFY)
                .values_list("object_id", "reason", "outcome")) == [
        (str(mobile.pk), "sms", Outcome.SUCCESS)]


@pytest.mark.parametrize("data,message", [
    ({"kind": "sms", "address": "not a number"}, "That is not a phone number we can reach"),
    ({"kind": "pager", "address": "+16175550199"}, "Select a valid choice"),
    ({"kind": "email", "address": ""}, "This field is required."),
    ({"kind": "email", "address": "x@"}, "That is not an email address."),
])
def test_a_bad_method_is_a_clear_400(practice, nurse, data, message):
    response = signed_in(nurse).post(url(practice, "contact_add"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ContactMethod.objects.exclude(kind=Kind.IN_APP).exists()


def test_wrong_expired_and_too_many_are_clear_on_the_page(practice, nurse, mobile):
    client = signed_in(nurse)
    verify = url(practice, "contact_verify", method_id=mobile.pk)
    response = client.post(verify, {"code": "123456"})
    assert response.status_code == 400 and "Send yourself a code first." in \
        response.content.decode()
    send = url(practice, "contact_send_code", method_id=mobile.pk)
    client.post(send)
    wrong = f"{(int(last_code()) + 1) % 10 ** 6:06d}"
    response = client.post(verify, {"code": wrong})
    assert response.status_code == 400 and "That code is not right. 4 tries left." in \
        response.content.decode()
    assert client.post(verify, {"code": ""}).status_code == 400
    client.post(send)
    client.post(send)
    response = client.post(send)
    assert response.status_code == 429
    assert "3 codes have been sent to this in the last hour" in response.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        response = signed_in(nurse).post(verify, {"code": last_code()})
    assert response.status_code == 400 and "That code has expired." in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.CONTACT_VERIFY,
                                     outcome=Outcome.FAILURE).count() == 3  # not the empty one


def test_the_nurse_sets_her_rules_on_the_page(practice, nurse, mobile):
    client = signed_in(nurse)
    verified(mobile)
    assert client.post(url(practice, "rule_add"), {"method": mobile.pk, "delay_s": "60"}) \
        .status_code == 302
    rule = NotificationRule.objects.get(user=nurse)
    assert (rule.method_id, rule.delay_s) == (mobile.pk, 60)
    page = client.get(url(practice, "contacts")).content.decode()
    assert "After 1 min:" in page and "after 1 min, text message" in page
    assert client.post(url(practice, "rule_add"), {"method": mobile.pk, "delay_s": "7"}) \
        .status_code == 400
    assert client.post(url(practice, "rule_remove", rule_id=rule.pk)).status_code == 302
    assert not NotificationRule.objects.exists()


def test_nobody_touches_another_members_methods_or_rules(practice, nurse, mobile):
    provider = signed_in(make_member(practice, Role.PROVIDER, "provider"))
    rule = contacts.set_rule(nurse, mobile, 0)
    for name, kwargs in [("contact_send_code", {"method_id": mobile.pk}),
                         ("contact_verify", {"method_id": mobile.pk}),
                         ("contact_remove", {"method_id": mobile.pk}),
                         ("rule_remove", {"rule_id": rule.pk})]:
        assert provider.post(url(practice, name, **kwargs), {"code": "1"}).status_code == 404
    # Nor may a rule point at another member's method.
    response = provider.post(url(practice, "rule_add"), {"method": mobile.pk, "delay_s": "0"})
    assert response.status_code == 400
    assert ContactMethod.objects.filter(pk=mobile.pk).exists() and not Delivery.objects.exists()
    assert NotificationRule.objects.filter(user=nurse).count() == 1
