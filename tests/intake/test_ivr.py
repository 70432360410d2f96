"""The practice's phone menu, as Twilio drives it: signed webhooks, one step at a time, with
retries. After hours a caller can reach the on-call provider (urgent) or leave a message in
the right queue; in office hours the front desk answers first."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from clinicline.inbox.models import Message, Recording, Source
from clinicline.inbox.service import caller_index
from clinicline.intake import ivr
from tests.gateways.test_webhooks import (
    CALL_SID,
    GATHER,
    PATIENT,
    RECORDING_SID,
    VOICE,
    call,
    make_gateway,
    post,
    twiml,
    voicemail,
)

pytestmark = pytest.mark.django_db
EMERGENCY = ivr.shipped().spoken("emergency")

AFTER_HOURS = dt.datetime(2026, 3, 2, 23, 15, tzinfo=dt.UTC)   # Monday 18:15 in Boston
OFFICE_HOURS = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)   # Monday 10:00 in Boston
FRONT_DESK = "+16175550111"


@pytest.fixture
def gateway(practice):
    return make_gateway(practice, test_mode=True)


@pytest.fixture
def after_hours():
    with time_machine.travel(AFTER_HOURS, tick=False):
        yield


def said(root: ET.Element) -> str:
    return " ".join(" ".join((s.text or "").split()) for s in root.iter("Say"))


def step(url: str, **params: str) -> ET.Element:
    return twiml(post(url, call(CallStatus="in-progress", **params)))


def press(root: ET.Element, digits: str) -> ET.Element:
    """Keys on the <Gather> the answer holds."""
    (gather,) = root.iter("Gather")
    return step(gather.get("action"), Digits=digits)


def time_out(root: ET.Element) -> ET.Element:
    """No key: Twilio follows the <Redirect> after the <Gather>."""
    (redirect,) = root.iter("Redirect")
    return step(redirect.text)


def record_action(root: ET.Element, sid: str = RECORDING_SID) -> ET.Element:
    (record,) = root.iter("Record")
    return step(record.get("action"), RecordingSid=sid, RecordingDuration="12",
                RecordingUrl=voicemail()["RecordingUrl"])


def recording_callback(root: ET.Element) -> None:
    (record,) = root.iter("Record")
    assert post(record.get("recordingStatusCallback"), voicemail()).status_code == 200


def answer_call() -> ET.Element:
    return twiml(post(VOICE, call()))


# --- the menu ------------------------------------------------------------------------------

def test_after_hours_the_caller_hears_the_emergency_line_and_a_menu_of_call_types(
        gateway, practice, after_hours):
    root = answer_call()
    text = said(root)
    assert text.startswith(f"Thank you for calling {practice.name}, this is the answering "
                           f"service. {EMERGENCY}")
    (gather,) = root.iter("Gather")
    assert gather.get("numDigits") == "1"
    assert "urgent medical problem that cannot wait, press 1." in text
    assert "For Clinical question or symptoms, press 2." in text
    assert "For Prescription refill, press 3." in text and "For Other, press 0." in text
    assert "Para español, oprima 9." in text  # in Spanish, in a Spanish voice
    (offer,) = [s for s in gather.iter("Say") if s.text.startswith("Para español")]
    assert offer.get("language") == "es-US"
    assert [c.tag for c in root][-1] == "Redirect"  # a timeout moves on, it does not hang up
    assert PATIENT[2:] not in ET.tostring(root, encoding="unicode")


def test_urgent_opens_an_urgent_clinical_message_at_once_with_the_callback_number(
        gateway, practice, after_hours):
    prompt = press(answer_call(), "1")
    (gather,) = prompt.iter("Gather")
    assert gather.get("finishOnKey") == "#" and "press pound" in said(prompt)
    assert not Message.objects.exists()

    answer = press(prompt, "6175550199")

    message = Message.objects.get()
    assert message.priority == "urgent" and "ivr-urgent" in message.rules
    assert message.source == Source.IVR and message.call_type == "clinical"
    assert message.call_sid == CALL_SID and message.office_open is False
    assert message.fields == {"callback_number": "+16175550199"}
    assert message.caller_index == caller_index(practice, PATIENT)
    (record,) = answer.iter("Record")
    assert int(record.get("maxLength")) <= 60
    minutes = practice.urgent_callback_minutes
    assert f"The on-call provider will call you back within {minutes} minutes." in said(answer)
    assert "6175550199" not in ET.tostring(answer, encoding="unicode")
    # The record says what the caller heard, word for word, and nothing else.
    assert all(line in said(answer_call()) + said(answer) for line in message.triage["said"])
    assert message.triage["said"][-1].endswith(f"within {minutes} minutes.")

    done = record_action(answer)
    recording_callback(answer)
    assert [c.tag for c in done][-1] == "Hangup" and EMERGENCY in said(done)
    message = Message.objects.get()
    assert message.recording == Recording.objects.get(recording_sid=RECORDING_SID)


@pytest.mark.parametrize("keys", ["", "#"])
def test_just_pound_or_nothing_calls_back_the_number_calling(gateway, after_hours, keys):
    prompt = press(answer_call(), "1")
    if keys:
        press(prompt, keys)
    else:
        time_out(prompt)
    assert Message.objects.get().fields == {"callback_number": PATIENT}


def test_a_short_number_is_asked_again_then_the_calling_number_is_used(gateway, after_hours):
    again = press(press(answer_call(), "1"), "12")
    assert "not a complete phone number" in said(again) and not Message.objects.exists()
    press(again, "34")
    assert Message.objects.get().fields == {"callback_number": PATIENT}


def test_a_routine_choice_and_recording_open_a_message_in_that_types_queue(
        gateway, practice, after_hours):
    prompt = press(answer_call(), "3")
    (record,) = prompt.iter("Record")
    assert int(record.get("maxLength")) == 120
    assert "Prescription refill" in said(prompt) and not Message.objects.exists()

    done = record_action(prompt)
    recording_callback(prompt)

    message = Message.objects.get()
    assert (message.source, message.call_type, message.priority) == (
        Source.VOICEMAIL, "refill", "routine")
    assert message.fields == {"callback_number": PATIENT} and message.call_sid == CALL_SID
    assert message.recording.recording_sid == RECORDING_SID
    assert message.team.slug != "" and "Goodbye" in said(done)


def test_a_caller_who_hangs_up_before_the_record_action_still_leaves_a_message(
        gateway, after_hours):
    prompt = press(answer_call(), "4")  # scheduling
    recording_callback(prompt)  # the caller hung up: only the callback arrives

    message = Message.objects.get()
    assert message.call_type == "scheduling" and message.source == Source.VOICEMAIL
    assert message.fields == {"callback_number": PATIENT}
    assert message.recording == Recording.objects.get()
    record_action(prompt)  # a late action changes nothing
    assert Message.objects.get().pk == message.pk


def test_retried_webhooks_have_one_effect(gateway, after_hours):
    answer_call()
    urgent = step(f"{GATHER}?step=menu&v=1&attempt=1", Digits="1")
    assert ET.tostring(step(f"{GATHER}?step=menu&v=1&attempt=1", Digits="1")) == \
        ET.tostring(urgent)
    first = press(urgent, "6175550199")
    second = press(urgent, "6175550199")
    assert ET.tostring(first) == ET.tostring(second)
    record_action(first)
    record_action(first)
    recording_callback(first)
    recording_callback(first)
    assert Message.objects.count() == 1 and Recording.objects.count() == 1


def test_bad_keys_replay_the_menu_then_take_a_general_message(gateway, after_hours):
    root = answer_call()
    for attempt in (2, 3):
        root = press(root, "*")
        assert "not one of the choices" in said(root)
        (gather,) = root.iter("Gather")
        assert parse_qs(urlsplit(gather.get("action")).query)["attempt"] == [str(attempt)]
    root = press(root, "*")
    assert list(root.iter("Record")) and not list(root.iter("Gather"))
    assert "Voicemail is not a secure way" in said(root)
    record_action(root)
    assert Message.objects.get().call_type == "other"


def test_silence_repeats_the_menu_once_then_takes_a_message(gateway, after_hours):
    again = time_out(answer_call())
    assert "We did not hear a choice" in said(again) and list(again.iter("Gather"))
    last = time_out(again)
    assert list(last.iter("Record")) and not list(last.iter("Gather"))


@pytest.mark.parametrize("path", [f"{GATHER}?step=nonsense", f"{GATHER}?step=menu&v=x&attempt=y",
                                  f"{GATHER}?step=recorded&type=no-such-type&v=999",
                                  f"{GATHER}"])
def test_hand_made_steps_never_fail(gateway, after_hours, path):
    answer_call()
    root = step(path, Digits="12345678901234567890")
    assert root.tag == "Response" and (list(root.iter("Gather")) or list(root.iter("Hangup")))


def test_in_office_hours_the_call_goes_to_the_front_desk_and_the_menu_if_unanswered(
        gateway, practice):
    practice.front_desk_number = FRONT_DESK
    practice.save()
    with time_machine.travel(OFFICE_HOURS, tick=False):
        root = answer_call()
        (dial,) = root.iter("Dial")
        assert [n.text for n in dial.iter("Number")] == [FRONT_DESK]
        assert EMERGENCY in said(root) and not list(root.iter("Gather"))

        unanswered = step(dial.get("action"), DialCallStatus="no-answer")
        assert "front desk is not available" in said(unanswered)
        assert list(unanswered.iter("Gather"))
    assert not Message.objects.exists()


def test_a_front_desk_that_answers_ends_the_call(gateway, practice):
    practice.front_desk_number = FRONT_DESK
    practice.save()
    with time_machine.travel(OFFICE_HOURS, tick=False):
        (dial,) = answer_call().iter("Dial")
        done = step(dial.get("action"), DialCallStatus="completed")
    assert [c.tag for c in done] == ["Hangup"]


def test_without_a_front_desk_line_open_hours_get_the_menu(gateway, practice):
    with time_machine.travel(OFFICE_HOURS, tick=False):
        root = answer_call()
    assert list(root.iter("Gather")) and not list(root.iter("Dial"))


def test_the_menu_offers_at_most_seven_call_types_and_the_general_one_on_0(practice, db):
    types = ivr.call_types_for(practice)
    offered = ivr.choices(types)
    others = [t for t in types.call_types if not t.general]
    assert list(offered) == [*(str(k) for k in range(2, 2 + min(7, len(others)))), "0"]
    assert offered["0"] == types.general and "9" not in offered  # 9 is "para español"
