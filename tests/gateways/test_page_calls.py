"""A page by voice, as Twilio drives it: the call we make about a page posts to the page
webhook (signed, with Twilio's answering machine detection), and each key the on-call
provider presses comes back there. Nothing about the patient is said before the PIN; the
PIN read, the callback number is; 1 acknowledges, 2 connects, 5 passes it on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import TestCase
from django.utils import timezone

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.oncall import contacts, pages, voice
from clinicline.oncall.models import ContactMethod, Page, PageEvent
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import GatewayAccount, Practice
from tests.conftest import make_member
from tests.gateways.test_webhooks import ACCOUNT_SID, NUMBER, PAGE, make_gateway, post, twiml
from tests.oncall.test_pages import policy, reachable, run, urgent

pytestmark = pytest.mark.django_db


PROVIDER_PHONE = "+16175550190"
PIN = "4827"
CALL_SID = "CA" + "f" * 32
SPOKEN_CALLBACK = "6 1 7, 5 5 5, 0 1 4 2"  # the patient's callback number, +16175550142
# What must never be said before the PIN: the patient, the number, anything they said.
PHI = ("Walter", "Okafor", "0 1 4 2", "0142", "617", "calf", "breath", "1958")


@pytest.fixture
def gateway(practice: Practice) -> GatewayAccount:
    return make_gateway(practice, test_mode=True)


@pytest.fixture
def provider(practice: Practice) -> User:
    """The on-call provider: called (and texted) by the page, with a voice PIN."""
    user = make_member(practice, Role.PROVIDER, "osei")
    ContactMethod.objects.create(user=user, kind=ContactMethod.Kind.VOICE,
                                 address=PROVIDER_PHONE, verified_at=timezone.now())
    contacts.set_pin(user, PIN)
    return user


@pytest.fixture
def page(practice, gateway, provider) -> Page:
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 120})
    return Page.objects.get(message=urgent(practice))


def call_url(page: Page, member: User) -> str:
    """Where the call's first request goes (the delivery's step: the transport's URL)."""
    return f"{PAGE}?{pages.call_step(page, member)}"


def params(**extra: str) -> dict[str, str]:
    """What Twilio posts on a call we made: from the practice's number, to the member."""
    return {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "From": NUMBER,
            "To": PROVIDER_PHONE, "CallStatus": "in-progress", "Direction": "outbound-api",
            **extra}


def said(root: ET.Element) -> str:
    return " ".join(" ".join(e.itertext()) for e in root.iter("Say"))


class Call:
    """One call, step by step: the answer, then each key, following the TwiML's URLs."""

    def __init__(self, url: str, answered_by: str = "human") -> None:
        self.heard: list[str] = []
        self.root = self.post(url, AnsweredBy=answered_by)

    def post(self, url: str, **extra: str) -> ET.Element:
        root = twiml(post(url, params(**extra)))
        self.heard.append(said(root))
        return root

    @property
    def gather(self) -> str:
        return self.root.find("Gather").get("action")

    def press(self, digits: str) -> ET.Element:
        self.root = self.post(self.gather, Digits=digits)
        return self.root

    def silence(self) -> ET.Element:
        self.root = self.post(self.root.find("Redirect").text)
        return self.root


def no_phi(*texts: str) -> None:
    for text in texts:
        assert not [s for s in PHI if s in text], text


def test_the_page_calls_with_a_step_that_names_only_ids(page, provider):
    delivery = Delivery.objects.get(purpose="page", channel="voice")
    assert delivery.call_step == f"page={page.pk}&member={provider.pk}"
    assert call_url(page, provider) == f"{PAGE}?{delivery.call_step}"
    assert delivery.to == PROVIDER_PHONE


def test_an_answering_machine_hears_that_a_message_waits_and_nothing_is_acknowledged(
        page, provider):
    call = Call(call_url(page, provider), answered_by="machine_start")
    assert call.heard == ["This is Riverside Family Medicine's answering service. An urgent "
                          "message from Riverside Family Medicine is waiting. Please sign in "
                          "to clinicline."]
    assert [e.tag for e in call.root] == ["Say", "Hangup"]
    page.refresh_from_db()
    assert page.state == Page.State.OPEN and page.next_step_at is not None
    machine = page.events.get(kind=PageEvent.Kind.MACHINE)
    assert (machine.member, machine.channel, machine.detail) == (provider, "voice",
                                                                 "answering machine")
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()


@pytest.mark.parametrize("answered_by", ["fax", "machine_end_beep"])
def test_a_fax_or_a_machine_after_the_beep_hears_no_more(page, provider, answered_by):
    call = Call(call_url(page, provider), answered_by=answered_by)
    assert call.root.find("Gather") is None
    no_phi(*call.heard)


def test_a_person_is_asked_for_the_pin_and_hears_nothing_else(page, provider):
    call = Call(call_url(page, provider))
    gather = call.root.find("Gather")
    assert (gather.get("numDigits"), gather.get("finishOnKey")) == ("8", "#")
    assert call.heard == ["This is Riverside Family Medicine's answering service with an "
                          "urgent message. Please enter your voice PIN, then press pound."]
    # The keys come back to the page webhook, not the IVR's gather.
    assert urlsplit(call.gather).path == PAGE
    silent = call.silence()
    assert said(silent) == "No PIN was entered. The message is waiting in clinicline. Goodbye."
    assert silent[-1].tag == "Hangup"


def test_a_wrong_pin_three_times_ends_the_call_without_a_word_of_the_message(page, provider):
    call = Call(call_url(page, provider))
    assert said(call.press("1111#")).startswith("That PIN is not right. Please enter")
    assert said(call.press("2222")).startswith("That PIN is not right.")
    last = call.press("3333#")
    assert said(last) == ("That PIN is not right. The message is waiting in clinicline. "
                          "Goodbye.")
    assert last[-1].tag == "Hangup"
    no_phi(*call.heard)
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()
    assert Page.objects.get().state == Page.State.OPEN


def test_the_right_pin_reads_the_callback_number_and_is_audited_as_a_view(page, provider):
    call = Call(call_url(page, provider))
    menu = call.press(PIN + "#")
    no_phi(*call.heard[:-1])
    words = said(menu)
    assert words == (f"An emergency message. The callback number is {SPOKEN_CALLBACK}. "
                     "Press 1 to acknowledge. Press 2 to acknowledge and be connected to the "
                     "caller. Press 3 to hear this again. Press 5 to pass it to the next "
                     "person.")
    assert "Walter" not in words  # the number, never the name
    [view] = AuditEvent.objects.filter(action=Action.VIEW)
    assert (view.actor_id, view.object_id, view.fields) == (
        provider.pk, str(page.message_id), "priority,callback_number")
    assert said(call.press("3")) == words  # again


def test_pressing_1_acknowledges_and_cancels_what_is_still_queued(page, provider):
    queued = Delivery.objects.filter(purpose="page", status=Status.QUEUED)
    assert queued.exists()
    call = Call(call_url(page, provider))
    call.press(PIN)
    done = call.press("1")
    assert said(done) == "Acknowledged. Thank you. The message is in your clinicline inbox."
    page.refresh_from_db()
    assert (page.state, page.acknowledged_by) == (Page.State.ACKNOWLEDGED, provider)
    assert page.events.get(kind=PageEvent.Kind.ACKNOWLEDGED).channel == "voice"
    assert not queued.exists()  # every notification still queued was cancelled


def test_pressing_2_acknowledges_and_dials_the_caller(page, provider):
    call = Call(call_url(page, provider))
    call.press(PIN)
    connecting = call.press("2")
    assert said(connecting) == "Acknowledged. Connecting you now."
    dial = connecting.find("Dial")
    assert dial.find("Number").text == "+16175550142"
    assert Page.objects.get().state == Page.State.ACKNOWLEDGED
    ended = call.post(dial.get("action"), DialCallStatus="completed")
    assert said(ended).endswith("Goodbye.") and ended[-1].tag == "Hangup"


def test_pressing_5_passes_the_page_to_the_next_step_now(page, provider):
    later = timezone.now()
    call = Call(call_url(page, provider))
    call.press(PIN)
    assert said(call.press("5")) == "Passed on to the next person. Goodbye."
    page.refresh_from_db()
    assert page.state == Page.State.OPEN and page.next_step_at <= timezone.now()
    assert page.next_step_at >= later - timezone.timedelta(seconds=5)
    assert page.events.filter(kind=PageEvent.Kind.PASSED, member=provider).exists()


def test_another_key_replays_the_menu_once_then_goodbye(page, provider):
    call = Call(call_url(page, provider))
    call.press(PIN)
    assert said(call.press("9")).startswith("Sorry, that is not one of the choices. An "
                                            "emergency message.")
    assert said(call.press("9")) == "The message is waiting in clinicline. Goodbye."
    assert Page.objects.get().state == Page.State.OPEN


def test_a_page_acknowledged_by_someone_else_is_said_so_after_the_pin(practice, page,
                                                                      provider):
    other = make_member(practice, Role.PROVIDER, "ferreira")
    pages.acknowledge(page, other, via="link")
    call = Call(call_url(page, provider))
    gone = call.press(PIN)
    assert said(gone) == "This message has already been acknowledged by someone else. Goodbye."
    no_phi(*call.heard)
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()


def test_a_member_without_a_pin_is_told_to_set_one(page, provider):
    provider.voice_pin.delete()
    call = Call(call_url(page, provider))
    assert "set a PIN on your How to reach me page" in call.heard[0]
    assert call.root.find("Gather") is None
    no_phi(*call.heard)


def test_a_menu_step_from_another_call_is_worth_nothing(page, provider):
    call = Call(call_url(page, provider))
    menu_url = call.press(PIN).find("Gather").get("action")
    other = twiml(post(menu_url, params(CallSid="CA" + "9" * 32, Digits="1")))
    assert said(other).startswith("This is Riverside Family Medicine's answering service.")
    no_phi(said(other))
    assert Page.objects.get().state == Page.State.OPEN


def test_a_forged_or_foreign_page_or_member_is_refused(practice, other_practice, page,
                                                       provider):
    """Signed by this practice, but naming what the page did not call: nothing is said."""
    stranger = make_member(practice, Role.PROVIDER, "kim")
    contacts.set_pin(stranger, PIN)
    lakeside = make_member(other_practice, Role.PROVIDER, "lakeside-doc")
    contacts.set_pin(lakeside, PIN)
    for n, query in enumerate([
            pages.call_step(page, stranger),                 # not notified by this page
            pages.call_step(page, lakeside),                 # not even this practice's
            urlencode({"page": "00000000-0000-0000-0000-000000000000",
                       "member": provider.pk}),              # no such page
            urlencode({"page": "x' OR 1=1", "member": "1e9"}),
            ""]):
        url = f"{PAGE}?{query}" if query else PAGE
        root = twiml(post(url, params(CallSid=f"CA{n:032d}", AnsweredBy="human")))
        assert root.find("Gather") is None and root[-1].tag == "Hangup"
        no_phi(said(root))
    # The PIN step, named by hand with a stranger, does not read the message either.
    step = f"{PAGE}?step=pin&{pages.call_step(page, stranger)}&attempt=1"
    root = twiml(post(step, params(Digits=PIN)))
    no_phi(said(root))
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()


def test_another_practices_page_is_not_found_through_this_practices_number(
        other_practice, page, provider):
    """The practice is the one whose number calls (and whose token signed): a page of
    another practice is not there to find."""
    make_gateway(other_practice, number="+16175550300", token="lakeside-token")
    root = twiml(post(call_url(page, provider), params(From="+16175550300",
                                                       AnsweredBy="human"),
                      token="lakeside-token"))
    assert root.find("Gather") is None
    no_phi(said(root))


def test_a_forged_signature_is_a_403_and_a_retry_gets_the_first_answer(page, provider):
    url = call_url(page, provider)
    assert post(url, params(AnsweredBy="human"), signature="forged").status_code == 403
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_FORGED).exists()
    first = post(url, params(AnsweredBy="machine_start")).content
    assert post(url, params(AnsweredBy="machine_start")).content == first
    assert PageEvent.objects.filter(kind=PageEvent.Kind.MACHINE).count() == 1
    assert InboundWebhook.objects.filter(kind=Kind.PAGE).count() == 1


def test_a_request_without_a_call_sid_is_a_400(page, provider):
    response = post(call_url(page, provider), {"From": NUMBER, "To": PROVIDER_PHONE})
    assert response.status_code == 400 and b"Missing CallSid." in response.content


def test_a_failing_step_still_says_only_that_a_message_waits(page, provider, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(voice.STEPS, voice.ANSWER, broken)
    root = twiml(post(call_url(page, provider), params(AnsweredBy="human")))
    assert said(root).startswith("This is Riverside Family Medicine's answering service.")
    assert InboundWebhook.objects.get(kind=Kind.PAGE).error == "handler failed: RuntimeError"


def test_a_plain_voice_delivery_keeps_its_spoken_text(practice, gateway):
    """The alarm to the front desk is a call that only speaks: no step."""
    policy(practice, {"target": Step.Target.MANAGER, "wait_s": 10})
    with TestCase.captureOnCommitCallbacks(execute=True):
        page = Page.objects.get(message=urgent(practice))
    run(page.opened_at + timezone.timedelta(seconds=1))
    [alarm] = Delivery.objects.filter(purpose="page", channel="voice")
    assert alarm.call_step == "" and "has not been acknowledged" in alarm.body


def test_a_page_texts_a_member_without_a_voice_number_as_before(practice, gateway):
    nurse = make_member(practice, Role.NURSE, "nurse")
    reachable(nurse, "+16175550193")
    policy(practice, {"target": Step.Target.MEMBER, "member": nurse, "wait_s": 60})
    urgent(practice)
    assert not Delivery.objects.filter(channel="voice").exists()
    assert Delivery.objects.filter(channel="sms", call_step="").count() == 1
