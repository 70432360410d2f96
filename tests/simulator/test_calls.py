"""The phone simulator: a browser tab as a patient's phone, driving the practice through the
same signed webhooks Twilio would post — so every test here runs the real webhook stack."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import wave
from pathlib import Path
from urllib.parse import unquote

import pytest
import time_machine
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.html import escape

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.inbox.models import Message, Recording
from clinicline.intake import texts
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Delivery, Status
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.simulator import views as simulator
from clinicline.simulator.carrier import SimulationRefused, post_webhook, webhook_path
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.phones import phone_token
from tests.conftest import make_member, make_patient, signed_in

PATIENT_PHONE = "+16175550142"      # Walter Okafor's mobile (the conftest patient)
PRACTICE_NUMBER = "+16175550100"
WORDS = "This is Walter. Please call me back about my blood pressure refill."


@pytest.fixture
def account(practice: Practice) -> GatewayAccount:
    """The practice's own Twilio account, in test mode, as the demo has it."""
    return GatewayAccount.objects.create(practice=practice, phone_number=PRACTICE_NUMBER,
                                         account_sid="AC" + "1" * 32,
                                         auth_token="riverside-test-token", test_mode=True)


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def clinician(nurse: User) -> Client:
    """The nurse trying the practice's line from a patient's phone (a patient's phone is
    for clinical staff: see test_visibility)."""
    return signed_in(nurse)


def url(practice: Practice, name: str = "phone", number: str = PATIENT_PHONE) -> str:
    return reverse(f"simulator:{name}",
                   kwargs={"practice": practice.slug, "phone": phone_token(practice, number)})


def page(client: Client, practice: Practice, number: str = PATIENT_PHONE) -> str:
    response = client.get(url(practice, number=number))
    assert response.status_code == 200
    return response.content.decode()


MENU = "Menu: “If you have an urgent medical problem that cannot wait, press 1."


def test_a_text_from_a_patients_phone_runs_the_real_sms_webhook(clinician, practice, account,
                                                                 patient):
    response = clinician.post(url(practice, "text"),
                               {"body": "Can I move my appointment to Friday?"})

    assert response.status_code == 302
    sent = SimulatorEvent.objects.get(kind="sms", direction="from-phone")
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.call_sid)
    # The webhook ran to the end: the signature held, the row is keyed by the MessageSid.
    webhook = InboundWebhook.objects.get(kind=Kind.SMS)
    assert webhook.key == sent.call_sid and webhook.practice == practice
    assert webhook.params["From"] == PATIENT_PHONE and webhook.params["To"] == PRACTICE_NUMBER
    assert webhook.params["Body"] == "Can I move my appointment to Friday?"
    assert webhook.params["AccountSid"] == account.account_sid
    assert not AuditEvent.objects.filter(action=Action.WEBHOOK_FORGED).exists()
    assert "Can I move my appointment to Friday?" in page(clinician, practice)


def test_the_practices_text_replies_arrive_on_the_phone(clinician, practice, account, patient):
    clinician.post(url(practice, "text"), {"body": "Can I move my appointment to Friday?"})

    html = page(clinician, practice)
    assert "The practice replied" in html and escape(texts.AUTO_REPLY_TEXT) in html


def test_calling_the_practice_hears_the_greeting_the_emergency_line_and_a_voicemail_prompt(
        clinician, practice, account, patient):
    response = clinician.post(url(practice, "call"), follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Thank you for calling Riverside Family Medicine" in html
    assert "If this is a medical emergency, please hang up and dial 9 1 1." in html
    assert "For Prescription refill, press 3." in html  # the practice's menu
    html = clinician.post(url(practice, "keys"), {"key": "3"}, follow=True).content.decode()
    assert "records a voicemail" in html
    assert 'name="words"' in html  # the voicemail form
    call = InboundWebhook.objects.get(kind=Kind.VOICE)
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.key) and call.params["From"] == PATIENT_PHONE


def test_leaving_a_voicemail_makes_spoken_audio_and_a_pending_recording(
        clinician, practice, account, patient, data_dir):
    assert shutil.which("espeak-ng"), "espeak-ng (Debian package) is needed: `make debian`"
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"key": "3"})  # a prescription refill
    call_sid = SimulatorEvent.objects.get(kind="call").call_sid

    response = clinician.post(url(practice, "voicemail"), {"words": WORDS}, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    [audio] = (data_dir / "simulator").glob("*.wav")
    with wave.open(str(audio)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert seconds > 2 and frames.strip(b"\x00")  # speech, not silence
    assert audio.stat().st_mode & 0o777 == 0o600  # the caller's words, for us alone
    recording = Recording.objects.get()
    assert recording.state == Recording.State.PENDING and recording.practice == practice
    assert recording.source_url == f"loopback://{practice.slug}/{audio.name}"
    assert recording.call_sid == call_sid and recording.recording_sid.startswith("RE")
    assert recording.duration_s >= 2
    assert "You left a voicemail" in html and WORDS in html
    assert 'name="words"' not in html  # the call is over: no second voicemail
    assert "is installed here" not in html
    message = Message.objects.get()  # the voicemail is a message in the refill queue
    assert message.call_type == "refill" and message.recording == recording


def test_without_a_speech_engine_the_voicemail_is_silence_and_the_page_says_so(
        clinician, practice, account, patient, data_dir, monkeypatch):
    monkeypatch.setenv("PATH", str(data_dir / "no-programs-here"))
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"key": "3"})

    response = clinician.post(url(practice, "voicemail"), {"words": WORDS}, follow=True)

    assert response.status_code == 200
    assert "Neither flite nor espeak-ng is installed" in response.content.decode()
    [audio] = (data_dir / "simulator").glob("*.wav")
    with wave.open(str(audio)) as wav:
        assert wav.getnframes() == wav.getframerate()  # one second
        assert not wav.readframes(wav.getnframes()).strip(b"\x00")
    assert Recording.objects.get().duration_s == 1


def test_pressing_keys_posts_the_gather_and_shows_what_the_practice_says(
        clinician, practice, account, patient):
    html = clinician.post(url(practice, "call"), follow=True).content.decode()
    assert MENU in html
    assert 'name="key" value="1"' in html  # the keypad

    response = clinician.post(url(practice, "keys"), {"key": "1"}, follow=True)

    gather = InboundWebhook.objects.get(kind=Kind.GATHER)
    assert gather.params["Digits"] == "1" and gather.params["From"] == PATIENT_PHONE
    assert gather.params["CallSid"] == InboundWebhook.objects.get(kind=Kind.VOICE).key
    html = response.content.decode()
    assert "You pressed 1" in html and "the best phone number to call you back" in html
    assert 'name="key"' in html  # the keypad again, for the number


def test_several_keys_can_be_typed_at_once(clinician, practice, account, patient):
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"key": "1"})  # urgent: the callback number next
    clinician.post(url(practice, "keys"), {"digits": "6175550199#9"})
    # As Twilio sends them: up to the finish key, which is left out.
    sent = [w.params["Digits"] for w in InboundWebhook.objects.filter(kind=Kind.GATHER)]
    assert sorted(sent) == ["1", "6175550199"]


def test_keys_beyond_num_digits_are_not_sent(clinician, practice, account, patient):
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"digits": "42"})
    assert InboundWebhook.objects.get(kind=Kind.GATHER).params["Digits"] == "4"


def test_keys_or_a_voicemail_without_a_call_are_refused(clinician, practice, account, patient):
    response = clinician.post(url(practice, "keys"), {"key": "1"})
    assert response.status_code == 409
    assert "not on a call" in response.content.decode()
    clinician.post(url(practice, "call"))  # a menu: it waits for keys, not for a voicemail
    assert clinician.post(url(practice, "voicemail"), {"words": WORDS}).status_code == 409
    assert not InboundWebhook.objects.filter(kind=Kind.GATHER).exists()


def test_hanging_up_ends_the_call(clinician, practice, account, patient):
    clinician.post(url(practice, "call"))
    html = clinician.post(url(practice, "hang_up"), follow=True).content.decode()
    assert "You hung up" in html and 'name="words"' not in html
    assert clinician.post(url(practice, "voicemail"), {"words": WORDS}).status_code == 409


@pytest.mark.parametrize("action", ["https://elsewhere.example/collect",
                                    "//elsewhere.example/gateways/twilio/voice/gather",
                                    "/accounts/login/"])
def test_an_answer_pointing_elsewhere_is_not_followed(action):
    """The simulator posts only to our own Twilio webhooks, whatever an answer says."""
    with pytest.raises(SimulationRefused) as refused:
        webhook_path(action)
    assert refused.value.status == 502


def test_redirects_are_followed_as_twilio_does(clinician, practice, account, patient):
    """Silence at the menu: Twilio goes on to the <Redirect> after the <Gather>, and the IVR
    says it heard no choice and plays the menu again."""
    clinician.post(url(practice, "call"))
    html = clinician.post(url(practice, "silence"), follow=True).content.decode()
    assert "We did not hear a choice." in html and html.count(MENU) >= 2
    (silent,) = InboundWebhook.objects.filter(kind=Kind.GATHER)
    assert "Digits" not in silent.params


def test_what_the_practice_sends_arrives_on_the_patients_phone(clinician, practice, account,
                                                              patient):
    outbox.enqueue(practice, channel=Channel.SMS, to=PATIENT_PHONE, purpose="notification",
                   body="Riverside Family Medicine has a message for you. Please call us at "
                        "(617) 555-0100.", idempotency_key="sim-sms", patient=patient)
    outbox.enqueue(practice, channel=Channel.VOICE, to=PATIENT_PHONE, purpose="notification",
                   body="This is Riverside Family Medicine with a message. Please call us "
                        "back.", idempotency_key="sim-voice", patient=patient)

    assert outbox.send_due() == 2

    assert set(Delivery.objects.values_list("status", "transport")) == {(Status.SENT,
                                                                         "loopback")}
    html = page(clinician, practice)
    assert "Text from the practice" in html
    assert "Riverside Family Medicine has a message for you." in html
    assert "Incoming call from the practice" in html
    assert "This is Riverside Family Medicine with a message. Please call us back." in html


def test_no_phone_number_appears_in_any_url(clinician, practice, account, patient, nurse):
    nurse.phone = "+16175550111"
    nurse.save()
    numbers = [PATIENT_PHONE, "+16175550111", "+12025550199"]
    responses = [clinician.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))]
    responses.append(clinician.post(reverse("simulator:open", kwargs={
        "practice": practice.slug}), {"number": "(202) 555-0199"}))
    for number in numbers:
        responses += [clinician.post(url(practice, "text", number), {"body": "hello"}),
                      clinician.post(url(practice, "call", number)),
                      clinician.get(url(practice, number=number))]

    urls = [r["Location"] for r in responses if r.has_header("Location")]
    for response in responses:
        urls += re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())
    assert len(urls) > 20 and all(r.status_code in (200, 302) for r in responses)
    for number in numbers:
        digits = number[2:]  # 6175550142
        pattern = re.compile(r"\D{0,3}".join([digits[:3], digits[3:6], digits[6:]]))
        assert not [u for u in urls if pattern.search(unquote(u))], number
    # A positive control: the numbers are on the pages, just not in their links.
    assert PATIENT_PHONE in responses[0].content.decode()


def test_a_member_of_another_practice_gets_404(other_admin, practice, account, patient,
                                               other_practice):
    client = signed_in(other_admin)
    for name in ("phone", "text", "call", "keys", "voicemail", "hang_up"):
        assert client.get(url(practice, name)).status_code == 404
        assert client.post(url(practice, name), {"body": "hi", "key": "1"}).status_code == 404
    # Its own slug with our token names nothing there, even where the same number is on file.
    make_patient(other_practice, phone=PATIENT_PHONE)
    token = phone_token(practice, PATIENT_PHONE)
    for name in ("phone", "text"):
        foreign = reverse(f"simulator:{name}",
                          kwargs={"practice": other_practice.slug, "phone": token})
        assert client.post(foreign, {"body": "hi"}).status_code == 404
    assert not SimulatorEvent.objects.exists() and not InboundWebhook.objects.exists()


def test_a_live_account_is_never_simulated(clinician, practice, account, patient):
    account.test_mode = False
    account.save()

    response = clinician.post(url(practice, "text"), {"body": "hello"})

    assert response.status_code == 403
    assert "only signs requests for a test-mode account" in response.content.decode()
    assert not InboundWebhook.objects.exists() and not SimulatorEvent.objects.exists()
    listing = clinician.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))
    assert listing.status_code == 403 and PATIENT_PHONE not in listing.content.decode()
    assert clinician.get(url(practice)).status_code == 403
    # And the one function that signs refuses on its own, whoever calls it.
    with pytest.raises(SimulationRefused) as refused:
        post_webhook(account, reverse("gateways:twilio_sms"), {"From": PATIENT_PHONE})
    assert refused.value.status == 403


def test_without_a_gateway_account_phones_receive_but_cannot_call(clinician, practice, patient):
    assert page(clinician, practice)
    response = clinician.post(url(practice, "text"), {"body": "hello"})
    assert response.status_code == 409 and "no test-mode gateway number" in \
        response.content.decode()
    assert not InboundWebhook.objects.exists()


def test_without_any_gateway_in_production_the_simulator_is_off(clinician, practice, patient,
                                                                  settings):
    settings.LOOPBACK_GATEWAY = False
    listing = clinician.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))
    assert listing.status_code == 403 and PATIENT_PHONE not in listing.content.decode()
    assert clinician.post(url(practice, "text"), {"body": "hello"}).status_code == 403
    assert not SimulatorEvent.objects.exists()


@pytest.mark.parametrize("name,data,message", [
    ("text", {"body": "   "}, "Type a message to send."),
    ("keys", {"digits": "12a"}, "Keys are 0–9, * and #"),
    ("keys", {}, "Keys are 0–9, * and #"),
    ("voicemail", {"words": ""}, "Type what the caller says."),
])
def test_bad_input_is_a_400_and_sends_nothing(clinician, practice, account, patient,
                                              name, data, message):
    clinician.post(url(practice, "call"))
    webhooks_before, events_before = InboundWebhook.objects.count(), SimulatorEvent.objects.count()

    response = clinician.post(url(practice, name), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert InboundWebhook.objects.count() == webhooks_before
    assert SimulatorEvent.objects.count() == events_before


@pytest.mark.parametrize("typed,message", [
    ("not a number", "not a phone number"),
    ("+1 555 0100", "not valid"),
    ("(617) 555-0100", "own number; open a phone that calls it"),
])
def test_opening_an_unusable_number_is_a_400(clinician, practice, account, typed, message):
    response = clinician.post(reverse("simulator:open", kwargs={"practice": practice.slug}),
                               {"number": typed})
    assert response.status_code == 400 and message in response.content.decode()
    assert not SimulatorEvent.objects.exists()


def test_opening_any_number_gives_it_a_phone(clinician, practice, account):
    response = clinician.post(reverse("simulator:open", kwargs={"practice": practice.slug}),
                               {"number": "(202) 555-0199"})

    assert response.status_code == 302
    assert response["Location"] == url(practice, number="+12025550199")
    assert "+12025550199" in page(clinician, practice, "+12025550199")
    listing = clinician.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))
    assert "Other phones" in listing.content.decode()
    assert "+12025550199" in listing.content.decode()


def test_unknown_and_malformed_tokens_are_404(clinician, practice, account):
    for token in (phone_token(practice, "+13125550123"), "not-a-token", "0" * 64):
        target = reverse("simulator:phone", kwargs={"practice": practice.slug, "phone": token})
        assert clinician.get(target).status_code == 404


def test_staff_phones_are_listed_and_can_text_the_practice(clinician, practice, account,
                                                          nurse):
    nurse.first_name, nurse.last_name, nurse.phone = "Morgan", "Adeyemi", "(617) 555-0111"
    nurse.save()
    listing = clinician.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))
    assert "+16175550111" in listing.content.decode()
    assert "Morgan Adeyemi · nurse" in listing.content.decode()

    clinician.post(url(practice, "text", "+16175550111"), {"body": "ACK"})

    assert InboundWebhook.objects.get(kind=Kind.SMS).params["From"] == "+16175550111"


def test_slash_simulator_opens_the_members_first_practice(practice, agent, other_practice):
    make_member(other_practice, Role.NURSE, "both").memberships.create(practice=practice,
                                                                     role=Role.NURSE)
    request = RequestFactory().get("/simulator/")
    request.user = User.objects.get(username="both")
    response = simulator.simulator_home(request)
    # Alphabetical, like the home page: Lakeside before Riverside.
    assert response.status_code == 302
    assert response["Location"] == reverse("simulator:phones",
                                           kwargs={"practice": other_practice.slug})
    request.user = make_member(Practice.objects.create(
        slug="empty", name="Empty", time_zone="UTC", callback_number="+13125550100"),
        Role.AGENT, "loner")
    request.user.memberships.all().delete()
    with pytest.raises(Http404):
        simulator.simulator_home(request)


# --- the practice's IVR, from a phone ------------------------------------------------------

def test_an_urgent_call_from_the_simulator_reaches_the_on_call_provider(
        clinician, practice, account, patient, data_dir):
    clinician.post(url(practice, "call"))
    html = clinician.post(url(practice, "keys"), {"key": "1"}, follow=True).content.decode()
    assert "best phone number to call you back" in html and "ended by #" in html

    html = clinician.post(url(practice, "keys"), {"digits": "6175550199#"},
                           follow=True).content.decode()

    message = Message.objects.get()
    assert message.priority == "urgent" and message.fields == {
        "callback_number": "+16175550199"}
    assert "will call you back within" in html and 'name="words"' in html
    clinician.post(url(practice, "voicemail"), {"words": "My chest hurts."})
    assert Message.objects.get().recording == Recording.objects.get()


def test_only_pound_is_the_calling_number(clinician, practice, account, patient):
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"key": "1"})
    clinician.post(url(practice, "keys"), {"key": "#"})
    assert Message.objects.get().fields == {"callback_number": PATIENT_PHONE}


def test_waiting_without_a_key_hears_the_menu_again(clinician, practice, account, patient):
    clinician.post(url(practice, "call"))
    html = clinician.post(url(practice, "silence"), follow=True).content.decode()
    assert "We did not hear a choice" in html and "You waited without pressing a key" in html
    html = clinician.post(url(practice, "silence"), follow=True).content.decode()
    assert "records a voicemail" in html


def test_hanging_up_at_the_end_of_a_voicemail_still_leaves_a_message(
        clinician, practice, account, patient, data_dir):
    clinician.post(url(practice, "call"))
    clinician.post(url(practice, "keys"), {"key": "4"})
    html = clinician.post(url(practice, "voicemail"), {"words": WORDS, "hang_up": "on"},
                           follow=True).content.decode()
    assert "You hung up" in html
    # Only the recording's callback reached the practice, not the <Record>'s action.
    assert not InboundWebhook.objects.filter(kind=Kind.GATHER,
                                             response__contains="has been sent").exists()
    assert Message.objects.get().call_type == "scheduling"


def test_in_office_hours_the_call_is_forwarded_and_an_unanswered_line_gets_the_menu(
        clinician, practice, account, patient):
    practice.front_desk_number = "+16175550111"
    practice.save()
    with time_machine.travel(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)):
        html = clinician.post(url(practice, "call"), follow=True).content.decode()
        assert "It connects the call to +16175550111" in html and "Nobody answers" in html
        html = clinician.post(url(practice, "line_unanswered"), follow=True).content.decode()
    assert "front desk is not available" in html and 'name="key"' in html
