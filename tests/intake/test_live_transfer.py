"""Live transfer: an urgent caller who has left their number and message is offered the
provider on call, where the practice asks for it. The provider's phone whispers first (the
PIN, then "press 1"); 1 acknowledges the page and connects them. Nobody on call, a wrong PIN
or no answer: the caller hears the truth, that a provider will call back within the
practice's minutes."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.intake import ivr
from clinicline.oncall import contacts
from clinicline.oncall.models import ContactMethod, Page, PageEvent
from tests.conftest import make_member, signed_in
from tests.gateways.test_webhooks import NUMBER, PAGE, make_gateway, post, twiml
from tests.intake.test_ivr import AFTER_HOURS, answer_call, press, record_action, said, step
from tests.oncall.support import make_schedule

# Every test: the practice's line, after hours.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("line")]

PROVIDER_PHONE = "+16175550190"
PIN = "4827"
LEG_SID = "CA" + "7" * 32  # the provider's leg of the transfer
HOLD = "Please hold while I try to connect you to the provider on call."


@pytest.fixture
def line(practice):
    make_gateway(practice, test_mode=True)
    with time_machine.travel(AFTER_HOURS, tick=False):
        yield


@pytest.fixture
def provider(practice):
    """On call (a standing weekly rotation of one), with a voice number and a PIN."""
    user = make_member(practice, Role.PROVIDER, "osei")
    ContactMethod.objects.create(user=user, kind=ContactMethod.Kind.VOICE,
                                 address=PROVIDER_PHONE, verified_at=timezone.now())
    contacts.set_pin(user, PIN)
    make_schedule(practice, [user], starts_on=dt.date(2026, 1, 5))
    return user


@pytest.fixture
def offered(practice):
    practice.transfer_urgent_calls = True
    practice.transfer_timeout_s = 20
    practice.save()
    return practice


def urgent_message_left() -> ET.Element:
    """Call, press 1, leave the callback number, then the recording."""
    answer = press(press(answer_call(), "1"), "6175550199#")
    return record_action(answer)


def dial_of(root: ET.Element) -> ET.Element:
    (dial,) = root.iter("Dial")
    return dial


def leg(url: str, **extra: str) -> ET.Element:
    """The provider's leg, as Twilio requests the whisper: from the practice's number
    (the dial's caller id) to the provider."""
    return twiml(post(url, {"CallSid": LEG_SID, "AccountSid": "AC" + "1" * 32,
                            "From": NUMBER, "To": PROVIDER_PHONE, "CallStatus": "in-progress",
                            "Direction": "outbound-dial", "ParentCallSid": "CA" + "c" * 32,
                            **extra}))


def whisper_keys(root: ET.Element, digits: str) -> ET.Element:
    (gather,) = root.iter("Gather")
    return leg(gather.get("action"), Digits=digits)


def test_with_the_option_on_the_caller_holds_and_the_provider_is_dialled_with_a_whisper(
        offered, provider):
    done = urgent_message_left()
    assert said(done) == HOLD
    dial = dial_of(done)
    (number,) = dial.iter("Number")
    assert number.text == PROVIDER_PHONE
    assert (dial.get("timeout"), dial.get("callerId")) == ("20", NUMBER)
    assert urlsplit(number.get("url")).path == PAGE  # the whisper is the page webhook's
    page = Page.objects.get()
    assert page.events.filter(kind=PageEvent.Kind.NOTIFIED, channel="transfer",
                              member=provider).exists()


def test_the_provider_enters_the_pin_presses_1_and_the_page_is_acknowledged(
        offered, provider):
    dial = dial_of(urgent_message_left())
    whisper = leg(dial.find("Number").get("url"))
    assert said(whisper).startswith("This is Riverside Family Medicine's answering service "
                                    "with an urgent caller on the line.")
    assert "6 1 7" not in said(whisper)
    accept = whisper_keys(whisper, PIN + "#")
    assert said(accept) == "Press 1 to be connected to the caller."
    connected = whisper_keys(accept, "1")
    # The whisper ends without hanging up: Twilio connects the two.
    assert [e.tag for e in connected] == ["Say"]
    page = Page.objects.get()
    assert (page.state, page.acknowledged_by) == (Page.State.ACKNOWLEDGED, provider)
    assert page.events.get(kind=PageEvent.Kind.ACKNOWLEDGED).channel == "transfer"
    # When the talk ends, the caller's dial action says goodbye.
    ended = step(dial.get("action"), DialCallStatus="completed", DialCallDuration="95")
    assert said(ended) == ivr.shipped().spoken("closing")
    console = signed_in(make_member(page.practice, Role.NURSE, "nurse"))
    assert console.get(f"/p/{page.practice.slug}/inbox/").status_code == 200


def test_a_wrong_pin_hangs_up_the_providers_leg_and_the_caller_hears_the_callback_promise(
        practice, offered, provider):
    dial = dial_of(urgent_message_left())
    wrong = whisper_keys(leg(dial.find("Number").get("url")), "1111#")
    assert [e.tag for e in wrong][-1] == "Hangup"
    # Twilio reports the dial as it ended; whatever it says, nobody took the call.
    ended = step(dial.get("action"), DialCallStatus="completed")
    minutes = practice.urgent_callback_minutes
    assert said(ended) == ("The provider on call could not be reached right now. The on-call "
                           f"provider will call you back within {minutes} minutes. "
                           f"{ivr.shipped().spoken('closing')}")
    assert Page.objects.get().state == Page.State.OPEN  # escalation goes on


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_no_answer_gives_the_truthful_callback_message(practice, offered, provider, status):
    dial = dial_of(urgent_message_left())
    ended = step(dial.get("action"), DialCallStatus=status)
    assert said(ended).startswith("The provider on call could not be reached right now. The "
                                  "on-call provider will call you back within "
                                  f"{practice.urgent_callback_minutes} minutes.")
    assert ended[-1].tag == "Hangup" and Page.objects.get().state == Page.State.OPEN


def test_pressing_anything_but_1_hangs_up_the_whisper(offered, provider):
    dial = dial_of(urgent_message_left())
    accept = whisper_keys(leg(dial.find("Number").get("url")), PIN)
    assert [e.tag for e in whisper_keys(accept, "2")] == ["Hangup"]
    assert Page.objects.get().state == Page.State.OPEN


def test_with_the_option_off_no_transfer_is_offered(practice, provider):
    done = urgent_message_left()
    assert not list(done.iter("Dial")) and HOLD not in said(done)
    assert f"within {practice.urgent_callback_minutes} minutes" in said(done)


def test_nobody_on_call_with_a_voice_pin_means_no_transfer(practice, offered,
                                                           provider):
    provider.voice_pin.delete()
    done = urgent_message_left()
    assert not list(done.iter("Dial")) and HOLD not in said(done)


def test_nobody_on_call_at_all_means_no_transfer(offered):
    done = urgent_message_left()
    assert not list(done.iter("Dial")) and done[-1].tag == "Hangup"


def test_a_whisper_for_someone_the_page_did_not_dial_says_nothing(
        practice, offered, provider):
    dial = dial_of(urgent_message_left())
    url = dial.find("Number").get("url")
    other = make_member(practice, Role.PROVIDER, "kim")
    forged = url.replace(f"member={provider.pk}", f"member={other.pk}")
    assert [e.tag for e in leg(forged)] == ["Hangup"]


def test_the_setting_is_on_the_practice_settings_page(practice):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    html = admin.get(f"/p/{practice.slug}/settings/").content.decode()
    assert "Offer to connect urgent callers to the provider on call" in html
    assert 'name="transfer_timeout_s"' in html and 'value="25"' in html
