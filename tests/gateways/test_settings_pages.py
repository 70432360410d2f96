"""The practice admin's gateway settings: the practice's own Twilio account, a write-only
auth token, and the switch to live, which needs a fresh sign-in and a current BAA."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from twilio.http.response import Response

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import BusinessAssociateAgreement, GatewayAccount, Practice, Vendor
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import make_member, signed_in
from tests.gateways.twilio_numbers import SID, TOKEN

pytestmark = pytest.mark.django_db



def url(practice: Practice, name: str = "settings") -> str:
    return reverse(f"gateway_settings:{name}", kwargs={"practice": practice.slug})


def account_form(**change: object) -> dict[str, object]:
    return {"phone_number": "(617) 555-0100", "account_sid": SID, "auth_token": TOKEN,
            "delete_recordings": "on", **change}


def set_up(practice: Practice, **extra: object) -> GatewayAccount:
    return GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                         account_sid=SID, auth_token=TOKEN, **extra)


def sign_twilio_baa(practice: Practice, expires_in_days: int | None = 365) -> None:
    today = timezone.localdate(timezone=practice.tz)
    BusinessAssociateAgreement.objects.create(
        practice=practice, vendor=Vendor.objects.get(slug="twilio"),
        signed_on=today - dt.timedelta(days=400), effective_on=today - dt.timedelta(days=365),
        expires_on=None if expires_in_days is None else today + dt.timedelta(expires_in_days),
        document_ref="contracts/twilio.pdf")


def no_token_in_the_audit_trail() -> None:
    for event in AuditEvent.objects.all():
        assert TOKEN not in " ".join(str(getattr(event, f.name)) for f in AuditEvent._meta.fields)


def test_the_admin_sets_up_the_account_in_test_mode(practice, admin):
    response = admin.post(url(practice), account_form())
    assert response.status_code == 302
    account = GatewayAccount.objects.get(practice=practice)
    assert (account.phone_number, account.account_sid, account.auth_token, account.test_mode,
            account.delete_recordings) == ("+16175550100", SID, TOKEN, True, True)
    event = AuditEvent.objects.get(action=Action.GATEWAY_CHANGE)
    assert (event.object_id, event.reason) == (str(account.pk), "created")
    assert set(event.fields.split(",")) == {"phone_number", "account_sid", "auth_token",
                                           "delete_recordings"}
    no_token_in_the_audit_trail()


def test_the_token_is_never_shown_and_a_blank_one_keeps_it(practice, admin):
    set_up(practice)
    page = admin.get(url(practice)).content.decode()
    assert TOKEN not in page and "A token is on file" in page
    response = admin.post(url(practice), account_form(auth_token="", delete_recordings=""))
    assert response.status_code == 302
    account = GatewayAccount.objects.get()
    assert (account.auth_token, account.delete_recordings) == (TOKEN, False)
    assert AuditEvent.objects.get(action=Action.GATEWAY_CHANGE).fields == "delete_recordings"


def test_a_new_token_is_recorded_as_changed_but_never_written_down(practice, admin):
    set_up(practice)
    admin.post(url(practice), account_form(auth_token="a-brand-new-token-000"))
    assert GatewayAccount.objects.get().auth_token == "a-brand-new-token-000"
    event = AuditEvent.objects.get(action=Action.GATEWAY_CHANGE)
    assert event.fields == "auth_token" and "a-brand-new-token" not in event.reason


@pytest.mark.parametrize("change,message", [
    ({"phone_number": "call the office"}, "That is not a phone number."),
    ({"phone_number": ""}, "This field is required."),
    ({"account_sid": "SK" + "0" * 32}, "That is not a Twilio account SID"),
    ({"account_sid": "AC123"}, "That is not a Twilio account SID"),
    ({"auth_token": ""}, "Enter the account&#x27;s auth token."),
    ({"auth_token": "two words"}, "An auth token has no spaces."),
    ({"auth_token": "x" * 129}, "at most 128 characters"),
])
def test_bad_input_is_a_clear_400(practice, admin, change, message):
    response = admin.post(url(practice), account_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not GatewayAccount.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).exists()


def test_another_practices_number_is_refused_clearly(practice, other_practice, admin):
    GatewayAccount.objects.create(practice=other_practice, phone_number="+16175550100",
                                  account_sid=SID, auth_token="theirs")
    response = admin.post(url(practice), account_form())
    assert response.status_code == 400
    assert "already another clinicline practice" in response.content.decode()
    assert not GatewayAccount.objects.filter(practice=practice).exists()


def test_an_empty_post_is_a_400_not_a_page(practice, admin):
    set_up(practice)
    assert admin.post(url(practice), {}).status_code == 400
    assert admin.post(url(practice, "mode"), {}).status_code == 400


def test_saving_without_a_change_records_nothing(practice, admin):
    set_up(practice, delete_recordings=True)
    response = admin.post(url(practice), account_form(auth_token=TOKEN), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PRACTICE_ADMIN])
def test_only_the_practice_admin_opens_the_gateway(practice, role):
    set_up(practice)
    client = signed_in(make_member(practice, role, f"u-{role}"))
    for name in ("settings", "mode"):
        assert client.get(url(practice, name)).status_code == 404
        assert client.post(url(practice, name), {"mode": "test"}).status_code == 404
    assert GatewayAccount.objects.get().test_mode is True


@pytest.mark.parametrize("name,data", [("settings", account_form()), ("mode", {"mode": "live"})])
def test_the_gateway_pages_ask_for_the_password_and_code_again(practice, admin, name, data):
    set_up(practice)
    sign_twilio_baa(practice)
    session = admin.session
    session["reauth_at"] = timezone.now().timestamp() - 3600
    session.save()
    for method in (admin.get, lambda u: admin.post(u, data)):
        response = method(url(practice, name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:reauth"))
    assert GatewayAccount.objects.get().test_mode is True
    assert not AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).exists()


def test_going_live_without_a_baa_is_refused_clearly_and_recorded(practice, admin):
    set_up(practice)
    response = admin.post(url(practice, "mode"), {"mode": "live"})
    assert response.status_code == 400
    assert "until a current Business Associate Agreement with Twilio is on record" in \
        response.content.decode()
    assert GatewayAccount.objects.get().test_mode is True
    event = AuditEvent.objects.get(action=Action.GATEWAY_CHANGE)
    assert (event.outcome, event.fields) == (Outcome.DENIED, "test_mode")


@pytest.mark.parametrize("expires_in_days", [-1, -365])
def test_an_expired_baa_does_not_let_the_practice_go_live(practice, admin, expires_in_days):
    set_up(practice)
    sign_twilio_baa(practice, expires_in_days)
    assert admin.post(url(practice, "mode"), {"mode": "live"}).status_code == 400
    assert GatewayAccount.objects.get().test_mode is True


def test_with_a_current_baa_the_practice_goes_live_and_texts_go_through_twilio(practice, admin,
                                                                              twilio_numbers):
    set_up(practice)
    sign_twilio_baa(practice, expires_in_days=None)
    response = admin.post(url(practice, "mode"), {"mode": "live"})
    assert response.status_code == 302
    assert GatewayAccount.objects.get().test_mode is False
    event = AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).latest("seq")
    assert (event.outcome, event.fields, event.reason) == (Outcome.SUCCESS, "test_mode", "live")

    delivery = service.enqueue(practice, channel="sms", to="+16175550142",
                               body="Please call us at (617) 555-0100.", purpose="reminder",
                               idempotency_key="r-1")
    _, twilio = twilio_numbers  # the same edge, now answering for a text
    twilio.reset_mock()
    twilio.side_effect = None
    twilio.return_value = Response(201, json.dumps({"sid": "SM" + "c" * 32}))
    service.send_due()
    assert twilio.call_count == 1
    assert twilio.call_args.kwargs["auth"] == (SID, TOKEN)
    assert Delivery.objects.get(pk=delivery.pk).status == Status.SENT
    assert not SimulatorEvent.objects.exists()


def test_back_to_test_mode_needs_no_baa_and_texts_go_to_the_simulator(practice, admin):
    set_up(practice, test_mode=False)
    response = admin.post(url(practice, "mode"), {"mode": "test"})
    assert response.status_code == 302
    assert GatewayAccount.objects.get().test_mode is True
    service.enqueue(practice, channel="sms", to="+16175550142", body="Please call us.",
                    purpose="reminder", idempotency_key="r-1")
    service.send_due()
    assert SimulatorEvent.objects.count() == 1


def test_the_mode_page_shows_where_things_stand(practice, admin):
    set_up(practice)
    page = admin.get(url(practice, "mode")).content.decode()
    assert "test mode" in page and "none is on record" in page


def test_the_mode_page_without_an_account_sends_the_admin_to_set_one_up(practice, admin):
    response = admin.post(url(practice, "mode"), {"mode": "live"})
    assert response.status_code == 302 and response["Location"] == url(practice)
    assert not GatewayAccount.objects.exists()


def test_a_mode_that_does_not_exist_is_a_clear_400(practice, admin):
    set_up(practice)
    response = admin.post(url(practice, "mode"), {"mode": "maybe"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
