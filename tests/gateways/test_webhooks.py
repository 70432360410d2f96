"""Inbound Twilio webhooks, as Twilio (or a forger) would call them: signed with the
practice's auth token by the `twilio` library itself, posted form-encoded to our URLs.

This module is also a small URLconf (``urlpatterns`` below): the official signature
vectors were signed for ``https://mycompany.com/myapp.php?foo=1&bar=2``, so to pass them
through our own voice view unchanged, a test serves that view at that path.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django.utils import timezone
from twilio.request_validator import RequestValidator

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.gateways import twiml as twiml_of
from clinicline.gateways import webhooks
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.inbox.models import Message, Recording
from clinicline.intake import ivr
from clinicline.intake.models import Call, CallTypeSet, InboundText
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import GatewayAccount, Practice
from tests.shared import DATA

VECTORS = DATA / "twilio-signature-vectors.json"
SITE = "https://clinic.example.org"
TOKEN = "riverside-auth-token"
ACCOUNT_SID = "AC" + "1" * 32
NUMBER = "+16175550100"       # the practice's line
PATIENT = "+16175550142"      # Walter Okafor's mobile
FORM = "application/x-www-form-urlencoded"
CALL_SID = "CA" + "c" * 32
MESSAGE_SID = "SM" + "d" * 32
RECORDING_SID = "RE" + "e" * 32
VOICE, GATHER, RECORDING, SMS, STATUS, PAGE = (
    f"/gateways/twilio/{p}" for p in ("voice", "voice/gather", "voice/recording", "sms",
                                      "status", "voice/page"))

urlpatterns = [
    path("myapp.php", webhooks.voice),
    path("gateways/", include("clinicline.gateways.urls")),
]

pytestmark = pytest.mark.django_db


def vectors() -> dict[str, Any]:
    """The shared vectors (their absence is a failure, not a reason to skip)."""
    return json.loads(VECTORS.read_text())


# --- the practice and how Twilio calls it ----------------------------------------------------

def make_gateway(practice: Practice, number: str = NUMBER, token: str = TOKEN,
                 **extra: Any) -> GatewayAccount:
    return GatewayAccount.objects.create(practice=practice, phone_number=number,
                                         account_sid=ACCOUNT_SID, auth_token=token, **extra)


@pytest.fixture
def gateway(practice: Practice) -> GatewayAccount:
    return make_gateway(practice, test_mode=True)


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(url: str, params: dict[str, str], *, token: str = TOKEN, site: str = SITE,
         signature: str | None = None, client: Client | None = None) -> HttpResponse:
    """POST as Twilio does: form-encoded, signed over SITE_URL + path + sorted params."""
    if signature is None:
        signature = sign(site + url, params, token)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    with override_settings(SITE_URL=site):
        return (client or Client()).post(url, urlencode(params), content_type=FORM,
                                         headers=headers)


def call(**extra: str) -> dict[str, str]:
    return {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "From": PATIENT, "To": NUMBER,
            "CallStatus": "ringing", "Direction": "inbound", **extra}


def text(body: str = "C", **extra: str) -> dict[str, str]:
    return {"MessageSid": MESSAGE_SID, "SmsSid": MESSAGE_SID, "AccountSid": ACCOUNT_SID,
            "From": PATIENT, "To": NUMBER, "Body": body, "NumMedia": "0", **extra}


def voicemail(url: str | None = None, **extra: str) -> dict[str, str]:
    """A recording status callback: Twilio names the call and the recording, not numbers."""
    return {"AccountSid": ACCOUNT_SID, "CallSid": CALL_SID, "RecordingSid": RECORDING_SID,
            "RecordingUrl": url or f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
                                   f"/Recordings/{RECORDING_SID}",
            "RecordingStatus": "completed", "RecordingDuration": "14",
            "RecordingChannels": "1", "RecordingSource": "RecordVerb", **extra}


def twiml(response: HttpResponse) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)  # noqa: S314 (our own answer)


def forged_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.WEBHOOK_FORGED))


# --- the official signature vectors -----------------------------------------------------------

def test_the_official_vectors_pass_twilios_validator():
    v = vectors()
    validator = RequestValidator(v["auth_token"])
    assert validator.compute_signature(v["url"], v["params"]) == v["expected_signature"]
    assert validator.validate(v["url"], v["params"], v["expected_signature"])
    # Twilio signs with or without the default port; the validator accepts either.
    assert validator.validate(v["url"], v["params"], v["expected_signature_url_with_:443"])
    http = v["url"].replace("https:", "http:")
    assert validator.validate(http, v["params"], v["expected_signature_http_url_with_:80"])
    assert validator.validate(http.replace(".com", ".com:1234"), v["params"],
                              v["expected_signature_http_url_with_:1234_port_removed"])
    assert not validator.validate(v["url"], {**v["params"], "Digits": "9"},
                                  v["expected_signature"])


@pytest.mark.parametrize(("site", "signature"), [
    ("https://mycompany.com", "expected_signature"),
    ("https://mycompany.com", "expected_signature_url_with_:443"),
    ("https://mycompany.com:443", "expected_signature"),
    ("http://mycompany.com", "expected_signature_http_url_with_:80"),
    ("http://mycompany.com:1234", "expected_signature_http_url_with_:1234_port_removed"),
])
@override_settings(ROOT_URLCONF=__name__)
def test_the_official_vectors_pass_through_our_voice_webhook(practice, site, signature):
    v = vectors()
    make_gateway(practice, number=v["params"]["To"], token=v["auth_token"])
    path_and_query = v["url"].removeprefix("https://mycompany.com")
    response = post(path_and_query, v["params"], site=site, signature=v[signature])
    say = " ".join(s.text or "" for s in twiml(response).iter("Say"))
    assert practice.name in say
    assert InboundWebhook.objects.get().key == v["params"]["CallSid"]
    assert forged_events() == []


@override_settings(ROOT_URLCONF=__name__)
def test_an_official_vector_with_one_value_changed_is_forged(practice):
    v = vectors()
    make_gateway(practice, number=v["params"]["To"], token=v["auth_token"])
    path_and_query = v["url"].removeprefix("https://mycompany.com")
    response = post(path_and_query, {**v["params"], "Digits": "9"},
                    site="https://mycompany.com", signature=v["expected_signature"])
    assert response.status_code == 403
    assert not InboundWebhook.objects.exists()
    assert len(forged_events()) == 1


def test_the_repeated_parameters_vector_passes_our_signature_check(practice):
    """A parameter sent more than once is signed with each distinct value, sorted: the
    form as read must keep every value, as Django's QueryDict does."""
    v = vectors()
    case = v["duplicate_params_case"]
    account = make_gateway(practice, token=v["auth_token"])
    body = urlencode([tuple(pair) for pair in case["params_multidict"]])
    request = RequestFactory().post(v["url"].removeprefix("https://mycompany.com"), body,
                                    content_type=FORM,
                                    headers={"X-Twilio-Signature": case["expected_signature"]})
    with override_settings(SITE_URL="https://mycompany.com"):
        form = webhooks.read_form(request)
        assert dict(form) == dict(request.POST.lists())
        webhooks.check_signature(request, form, account)  # raises Refusal if not passed
        # What a plain dict would have signed (the last value only) does not match.
        assert not RequestValidator(v["auth_token"]).validate(
            webhooks.signed_url(request), request.POST.dict(), case["expected_signature"])
    assert forged_events() == []


def test_the_json_body_vector_passes_the_validator_and_our_webhooks_refuse_json(gateway):
    case = vectors()["json_body_case"]
    validator = RequestValidator(vectors()["auth_token"])
    assert validator.validate(case["url"], case["body"], case["expected_signature"])
    assert not validator.validate(case["url"], case["body"].replace("value", "other"),
                                  case["expected_signature"])
    # Twilio's voice and messaging webhooks are form posts; a JSON body is not one of them.
    response = Client().post(SMS, case["body"], content_type="application/json",
                             headers={"X-Twilio-Signature": case["expected_signature"]})
    assert response.status_code == 400
    assert b"form parameters" in response.content


# --- forged and unsigned ----------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["forged", ""], ids=["forged", "missing"])
def test_a_forged_or_missing_signature_is_refused_and_audited_without_phi(gateway, signature):
    body = "Walter Okafor here, chest pain since last night"
    bad = "" if not signature else sign(SITE + SMS, text(body), token="someone-elses-token")
    response = post(SMS, text(body), signature=bad)
    assert response.status_code == 403
    assert not InboundWebhook.objects.exists()
    (event,) = forged_events()
    assert event.practice_id == gateway.practice_id
    assert event.outcome == Outcome.DENIED
    assert event.reason == ("missing signature" if not signature else
                            "signature does not match")
    row = {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields}
    for phi in (PATIENT, "Okafor", "chest pain", MESSAGE_SID):
        assert all(phi not in str(value) for value in row.values()), phi


def test_an_account_without_a_token_verifies_nothing(gateway):
    gateway.auth_token = ""
    gateway.save()
    # Anyone can sign with an empty key: that must not make a request genuine.
    response = post(SMS, text(), token="")
    assert response.status_code == 403
    assert [e.reason for e in forged_events()] == ["no auth token configured"]
    assert not InboundWebhook.objects.exists()


def test_a_signature_for_another_url_or_other_params_is_refused(gateway):
    assert post(VOICE, call(), signature=sign(SITE + SMS, call())).status_code == 403
    assert post(VOICE, call(), signature=sign(SITE + VOICE, call(Digits="1"))).status_code \
        == 403
    assert post(VOICE, call(), signature=sign("https://elsewhere.example" + VOICE, call())) \
        .status_code == 403
    assert len(forged_events()) == 3
    assert post(VOICE, call()).status_code == 200


def test_the_signed_url_is_the_public_site_not_the_host_that_reached_us(gateway):
    # Behind a proxy the request arrives as http://127.0.0.1:8000; Twilio signed SITE_URL.
    params = call()
    with override_settings(SITE_URL=SITE, ALLOWED_HOSTS=["127.0.0.1"]):
        response = Client().post(VOICE, urlencode(params), content_type=FORM,
                                 headers={"X-Twilio-Signature": sign(SITE + VOICE, params)},
                                 HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200


# --- once, and only once ----------------------------------------------------------------------

def test_a_text_retried_three_times_is_kept_once_with_the_same_answer(gateway):
    answers = [post(SMS, text("C")) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert len({a.content for a in answers}) == 1
    webhook = InboundWebhook.objects.get()
    assert (webhook.kind, webhook.key) == (Kind.SMS, MESSAGE_SID)
    assert webhook.params["Body"] == "C"


def test_a_call_retried_three_times_is_answered_the_same_way_once(gateway):
    answers = [post(VOICE, call()) for _ in range(3)]
    assert len({a.content for a in answers}) == 1
    assert InboundWebhook.objects.filter(kind=Kind.VOICE).count() == 1


def test_a_voicemail_callback_retried_three_times_makes_one_recording(gateway):
    post(VOICE, call())
    answers = [post(RECORDING, voicemail()) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert InboundWebhook.objects.filter(kind=Kind.RECORDING).count() == 1
    recording = Recording.objects.get()
    assert (recording.recording_sid, recording.call_sid, recording.duration_s,
            recording.state) == (RECORDING_SID, CALL_SID, 14, Recording.State.PENDING)
    assert recording.practice_id == gateway.practice_id
    assert recording.due_at is not None


def test_a_status_callback_retried_three_times_changes_the_delivery_once(gateway):
    delivery = sent_delivery(gateway.practice, MESSAGE_SID)
    params = {"MessageSid": MESSAGE_SID, "MessageStatus": "delivered", "From": NUMBER,
              "To": PATIENT, "AccountSid": ACCOUNT_SID}
    assert post(STATUS, params).status_code == 200
    first = Delivery.objects.get(pk=delivery.pk)
    assert first.status == Status.DELIVERED and first.delivered_at is not None
    for _ in range(2):
        assert post(STATUS, params).status_code == 200
    again = Delivery.objects.get(pk=delivery.pk)
    assert (again.status, again.delivered_at, again.updated_at) == \
        (Status.DELIVERED, first.delivered_at, first.updated_at)
    assert InboundWebhook.objects.filter(kind=Kind.STATUS).count() == 1


def test_an_id_seen_under_another_practice_is_not_a_retry(gateway, other_practice):
    """Tenancy: whoever holds Lakeside's token cannot read Riverside's answer to a call by
    replaying its CallSid under Lakeside's number."""
    lakeside = "+16175550111"
    make_gateway(other_practice, number=lakeside, token="lakeside-token")
    assert post(VOICE, call()).status_code == 200
    response = post(VOICE, call(To=lakeside), token="lakeside-token")
    assert response.status_code == 409
    assert b"Riverside" not in response.content
    assert InboundWebhook.objects.get().practice_id == gateway.practice_id


def test_the_same_id_under_another_kind_or_status_is_another_event(gateway):
    delivery = sent_delivery(gateway.practice, MESSAGE_SID)
    base = {"MessageSid": MESSAGE_SID, "From": NUMBER, "To": PATIENT}
    post(STATUS, {**base, "MessageStatus": "sent"})
    post(STATUS, {**base, "MessageStatus": "delivered"})
    assert InboundWebhook.objects.filter(kind=Kind.STATUS).count() == 2
    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED


# --- malformed ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "params", "missing"), [
    (VOICE, {"From": PATIENT, "To": NUMBER}, b"Missing CallSid."),
    (SMS, {"From": PATIENT, "To": NUMBER, "Body": "hi"}, b"Missing MessageSid."),
    (GATHER, {"From": PATIENT, "To": NUMBER, "Digits": "1"}, b"Missing CallSid."),
    (STATUS, {"From": NUMBER, "To": PATIENT, "MessageStatus": "sent"}, b"Missing CallSid."),
    (STATUS, {"From": NUMBER, "To": PATIENT, "MessageSid": MESSAGE_SID},
     b"Missing or unknown MessageStatus."),
])
def test_a_signed_request_without_its_id_is_a_bad_request(gateway, url, params, missing):
    response = post(url, params)
    assert response.status_code == 400
    assert response.content == missing
    assert not InboundWebhook.objects.exists()


def test_an_id_that_is_not_a_twilio_id_is_a_bad_request(gateway):
    response = post(SMS, text(MessageSid="SM" + "x" * 100))
    assert response.status_code == 400
    assert response.content == b"MessageSid is not a Twilio id."
    assert post(VOICE, call(CallSid="CA'; DROP TABLE x;--")).status_code == 400


@pytest.mark.parametrize("url", [VOICE, GATHER, RECORDING, SMS, STATUS, PAGE])
def test_webhooks_are_posted_only(gateway, url):
    response = Client().get(url, {"CallSid": CALL_SID, "To": NUMBER})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", json.dumps(text())),
    ("application/xml", "<Request><To>+16175550100</To></Request>"),
    (FORM, ""),
    (FORM, "\x00\xff\xfe garbage %%% ==&&="),
    ("multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
    ("multipart/form-data", "no boundary at all"),
    ("text/plain", "To=+16175550100&MessageSid=SM1"),
])
def test_a_body_that_is_not_twilios_form_is_refused_not_a_crash(gateway, content_type, body):
    response = Client().post(SMS, body, content_type=content_type)
    assert response.status_code in (400, 403), response.content
    assert not InboundWebhook.objects.exists()


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=20)
def test_a_form_with_more_fields_than_django_allows_is_refused(gateway):
    body = urlencode({**text(), **{f"Extra{n}": "x" for n in range(30)}})
    response = Client().post(SMS, body, content_type=FORM)
    assert response.status_code == 400
    assert response.content == b"The body could not be read as form parameters."
    assert not InboundWebhook.objects.exists()


def test_a_number_that_is_no_practices_is_not_found(gateway):
    response = post(SMS, text(To="+16175550999"))
    assert response.status_code == 404
    assert post(VOICE, call(To="client:alice")).status_code == 404
    assert not InboundWebhook.objects.exists()
    assert forged_events() == []  # nobody to verify against, nothing to audit


def test_a_request_naming_no_number_at_all_is_a_bad_request(gateway):
    response = post(SMS, {"MessageSid": MESSAGE_SID, "Body": "hi"})
    assert response.status_code == 400
    assert response.content == b"Missing To."


def test_unknown_extra_parameters_are_accepted_and_kept(gateway):
    params = text(FutureParam="42", ToCountry="US", FromCity="BOSTON", AddOns='{"x": 1}')
    assert post(SMS, params).status_code == 200
    kept = InboundWebhook.objects.get().params
    assert kept["FutureParam"] == "42" and kept["AddOns"] == '{"x": 1}'


def test_long_keypresses_still_make_a_key_that_fits(gateway):
    response = post(GATHER + "?step=menu", call(Digits="1" * 500))
    assert response.status_code == 200
    key = InboundWebhook.objects.get().key
    assert len(key) <= InboundWebhook._meta.get_field("key").max_length
    # The same call pressing something else at the same step is another event.
    assert post(GATHER + "?step=menu", call(Digits="2")).status_code == 200
    assert InboundWebhook.objects.count() == 2


# --- what callers hear -------------------------------------------------------------------------

def test_the_fallback_answer_greets_warns_and_takes_a_voicemail(gateway, practice):
    """What a caller hears when answering the call fails: from the name alone."""
    root = ET.fromstring(twiml_of.voice(ivr.fallback(practice.name)))  # noqa: S314 (ours)
    said = " ".join(s.text or "" for s in root.iter("Say"))
    assert f"Thank you for calling {practice.name}" in said
    assert ivr.shipped().spoken("emergency") in said and "hang up and dial 9 1 1" in said
    (record,) = root.iter("Record")
    assert record.get("recordingStatusCallback") == RECORDING  # the general voicemail
    assert int(record.get("maxLength")) == ivr.VOICEMAIL_S
    # After the recording Twilio requests the action; without one it would request the
    # greeting again, and the caller would go round in circles.
    assert record.get("action") == f"{GATHER}?step={ivr.RECORDED}"
    assert [child.tag for child in root].index("Record") == len(root) - 1


def test_after_the_fallback_voicemail_the_message_is_opened_and_the_call_ends(gateway):
    post(VOICE, call())
    after = twiml(post(f"{GATHER}?step={ivr.RECORDED}",
                       call(CallStatus="in-progress", Digits="hangup",
                            RecordingUrl=voicemail()["RecordingUrl"])))
    assert "Goodbye" in " ".join(s.text or "" for s in after.iter("Say"))
    assert [child.tag for child in after][-1] == "Hangup"
    assert Message.objects.get(call_sid=CALL_SID).call_type == "other"


def test_a_text_is_answered_at_once_and_kept_for_the_worker(gateway):
    root = twiml(post(SMS, text("R")))
    assert root.tag == "Response" and list(root) == []  # a keyword gets no auto-reply
    assert InboundWebhook.objects.get().response == twiml_of.NO_REPLY
    waiting = InboundText.objects.get()
    assert (waiting.message_sid, waiting.state) == (MESSAGE_SID, InboundText.State.WAITING)
    assert waiting.body == "R" and waiting.sender == PATIENT


def test_what_patients_send_is_encrypted_at_rest(gateway):
    post(SMS, text("Walter Okafor, my chest hurts"))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT params FROM {InboundWebhook._meta.db_table}")  # noqa: S608
        (raw,) = cursor.fetchone()
    for phi in ("Okafor", "chest", PATIENT, PATIENT.lstrip("+")):
        assert phi not in raw


def break_call_types(practice: Practice) -> None:
    """A practice whose call types cannot be read (a row damaged by hand): answering its
    calls fails in the IVR itself, with no test double."""
    CallTypeSet.objects.create(practice=practice, version=99, document={"call_types": 7})


def test_a_failing_handler_still_gives_the_caller_the_emergency_line(gateway, practice):
    break_call_types(practice)
    with mock.patch.object(webhooks.log, "error") as logged:
        first, second = post(VOICE, call()), post(VOICE, call())
    assert first.content == second.content
    said = " ".join(s.text or "" for s in twiml(first).iter("Say"))
    assert ivr.shipped().spoken("emergency") in said
    webhook = InboundWebhook.objects.get()
    assert webhook.error.startswith("handler failed: ")
    assert webhook.params["From"] == PATIENT  # kept: the event can be handled again
    assert not Call.objects.exists()  # the IVR's effect was rolled back with the failure
    assert "Okafor" not in str(logged.call_args_list)


def test_a_voicemail_callback_naming_the_numbers_is_found_by_them(gateway):
    response = post(RECORDING, voicemail(To=NUMBER, From=PATIENT))
    assert response.status_code == 200
    assert Recording.objects.get().practice_id == gateway.practice_id


def test_a_voicemail_callback_for_a_call_we_never_answered_is_not_found(gateway):
    assert post(RECORDING, voicemail()).status_code == 404
    assert not Recording.objects.exists()


def test_a_voicemail_somewhere_else_than_twilio_or_the_simulator_is_refused(gateway):
    post(VOICE, call())
    for n, url in enumerate(("https://evil.example/2010-04-01/Accounts/x/Recordings/y",
                "http://api.twilio.com/2010-04-01/Accounts/" + ACCOUNT_SID
                + "/Recordings/" + RECORDING_SID,
                f"https://api.twilio.com/2010-04-01/Accounts/AC{'9' * 32}/Recordings/"
                + RECORDING_SID,
                "file:///etc/passwd", "loopback://lakeside/a.wav",
                "loopback://riverside/../../master.key")):
        sid = f"RE{n:032d}"
        assert post(RECORDING, voicemail(url, RecordingSid=sid)).status_code == 200
    assert not Recording.objects.exists()
    assert all(w.error.startswith("recording URL refused")
               for w in InboundWebhook.objects.filter(kind=Kind.RECORDING))


def test_a_recording_callback_that_is_not_completed_queues_nothing(gateway):
    post(VOICE, call())
    post(RECORDING, voicemail(RecordingStatus="absent"))
    assert not Recording.objects.exists()
    post(RECORDING, voicemail())  # a later "completed" is not hidden by the first
    assert Recording.objects.count() == 1


# --- status callbacks update the outbox ----------------------------------------------------------

def sent_delivery(practice: Practice, vendor_id: str, channel: str = "sms") -> Delivery:
    return Delivery.objects.create(practice=practice, channel=channel, purpose="reminder",
                                   to=PATIENT, body="Please call us.", transport="twilio",
                                   idempotency_key=vendor_id, status=Status.SENT,
                                   vendor_id=vendor_id, sent_at=timezone.now())


@pytest.mark.parametrize(("params", "expected"), [
    ({"MessageStatus": "delivered"}, Status.DELIVERED),
    ({"MessageStatus": "read"}, Status.DELIVERED),
    ({"MessageStatus": "failed", "ErrorCode": "30003"}, Status.FAILED),
    ({"MessageStatus": "undelivered", "ErrorCode": "30005"}, Status.FAILED),
    ({"MessageStatus": "sent"}, Status.SENT),
    ({"MessageStatus": "queued"}, Status.SENT),
])
def test_message_status_callbacks_move_the_delivery(gateway, params, expected):
    delivery = sent_delivery(gateway.practice, MESSAGE_SID)
    response = post(STATUS, {"MessageSid": MESSAGE_SID, "From": NUMBER, "To": PATIENT,
                             "AccountSid": ACCOUNT_SID, **params})
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == expected
    if expected == Status.FAILED:
        assert delivery.error == f"Twilio: {params['MessageStatus']} " \
                                 f"(error {params['ErrorCode']})"


@pytest.mark.parametrize(("call_status", "expected"), [
    ("completed", Status.DELIVERED), ("no-answer", Status.FAILED), ("busy", Status.FAILED),
    ("failed", Status.FAILED), ("canceled", Status.FAILED), ("ringing", Status.SENT),
    ("in-progress", Status.SENT),
])
def test_call_status_callbacks_move_the_delivery(gateway, call_status, expected):
    delivery = sent_delivery(gateway.practice, CALL_SID, channel="voice")
    response = post(STATUS, {"CallSid": CALL_SID, "CallStatus": call_status, "From": NUMBER,
                             "To": PATIENT, "Direction": "outbound-api"})
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == expected


def test_an_error_code_that_is_not_a_code_is_not_kept(gateway):
    delivery = sent_delivery(gateway.practice, MESSAGE_SID)
    post(STATUS, {"MessageSid": MESSAGE_SID, "MessageStatus": "failed", "From": NUMBER,
                  "To": PATIENT, "ErrorCode": "Walter Okafor"})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (Status.FAILED, "Twilio: failed")


def test_a_practice_cannot_move_another_practices_delivery(gateway, other_practice):
    theirs = sent_delivery(other_practice, MESSAGE_SID)
    make_gateway(other_practice, number="+16175550111", token="lakeside-token")
    response = post(STATUS, {"MessageSid": MESSAGE_SID, "MessageStatus": "failed",
                             "From": NUMBER, "To": PATIENT})
    assert response.status_code == 200  # signed by Riverside: answered, and ignored
    theirs.refresh_from_db()
    assert theirs.status == Status.SENT
