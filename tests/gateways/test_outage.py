"""The database unreachable while Twilio calls: every webhook answers 503 with
Retry-After and stores nothing, except a new call, which still hears the practice's
greeting with the emergency line and is put through to the fallback phone, from the local
fallback file. The fallback URL answers the same without touching the database."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.gateways.models import InboundWebhook
from clinicline.intake import ivr
from clinicline.intake.models import Call, InboundText
from clinicline.practices import voice_fallback
from clinicline.practices.models import Practice
from tests.gateways.test_webhooks import (
    GATHER,
    NUMBER,
    RECORDING,
    SMS,
    STATUS,
    VOICE,
    call,
    make_gateway,
    post,
    text,
    twiml,
    voicemail,
)
from tests.support_db import database_down, goes_away_at

pytestmark = pytest.mark.django_db
FRONT_DESK = "+16175550199"
FALLBACK = reverse("gateways:twilio_voice_fallback")
SORRY = "we cannot take messages right now"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def line(practice: Practice) -> Practice:
    """Riverside's number, with its front desk, in the fallback file."""
    practice.front_desk_number = FRONT_DESK
    practice.save()
    make_gateway(practice)
    voice_fallback.write()
    return practice


def said(root: ET.Element) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


def dialled(root: ET.Element) -> list[tuple[str, str]]:
    return [(d.get("action", ""), " ".join(n.text or "" for n in d.iter("Number")))
            for d in root.iter("Dial")]


def assert_retry_later(response) -> None:  # noqa: ANN001
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"clinicline cannot store this right now; please retry."


def assert_outage_answer(response, practice: Practice) -> None:  # noqa: ANN001
    root = twiml(response)
    emergency = ivr.shipped().spoken("emergency")
    assert (f"Thank you for calling {practice.name}, this is the answering service. "
            f"{emergency}") in said(root)
    assert SORRY in said(root)
    [(action, number)] = dialled(root)
    assert number == FRONT_DESK and action.startswith(FALLBACK + "?")


@pytest.mark.parametrize(("url", "params"), [
    (SMS, text("C")),
    (STATUS, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "From": NUMBER,
              "To": "+16175550142"}),
    (GATHER + "?step=menu&v=1&attempt=1", call(Digits="1")),
    (RECORDING, voicemail()),
], ids=["sms", "status", "gather", "recording"])
def test_each_webhook_answers_503_with_retry_after_while_the_database_is_down(
        line, url, params, caplog):
    with caplog.at_level(logging.WARNING), database_down() as connect:
        response = post(url, params)
    assert_retry_later(response)
    assert connect.called  # the first touch of the database, the practice's number
    assert not InboundWebhook.objects.exists()
    [logged] = [r for r in caplog.records if r.name == "clinicline.outage"]
    assert "OperationalError" in logged.getMessage()
    assert "connection refused" not in caplog.text


def test_a_call_during_the_outage_hears_the_911_line_and_is_put_through(line):
    with database_down():
        response = post(VOICE, call())
    assert_outage_answer(response, line)
    assert not Call.objects.exists() and not InboundWebhook.objects.exists()


def test_a_text_caught_mid_flight_is_503_and_nothing_of_it_is_stored(line, caplog):
    """The practice was found, then the database went away at the text's INSERT: the
    transaction rolls back and the ledger's keep-the-failure INSERT is not attempted."""
    with caplog.at_level(logging.WARNING), goes_away_at("INSERT"):
        response = post(SMS, text("R"))
    assert_retry_later(response)
    assert not InboundText.objects.exists() and not InboundWebhook.objects.exists()
    assert "handler failed" not in caplog.text
    assert post(SMS, text("R")).status_code == 200  # Twilio's retry, once it is back
    assert InboundText.objects.count() == 1


def test_a_call_caught_mid_flight_still_hears_the_911_line(line):
    with goes_away_at("INSERT"):
        response = post(VOICE, call())
    assert_outage_answer(response, line)
    assert not Call.objects.exists() and not InboundWebhook.objects.exists()


@pytest.mark.parametrize("down", [False, True], ids=["database up", "database down"])
def test_the_fallback_url_answers_from_the_file_without_the_database(
        line, down, django_assert_num_queries):
    with django_assert_num_queries(0):
        if down:
            with database_down():
                response = post(FALLBACK, call())
        else:
            response = post(FALLBACK, call())
    assert_outage_answer(response, line)


def test_after_the_fallback_phone_the_caller_hears_goodbye_without_the_database(line):
    dial_action = dialled(twiml(post(FALLBACK, call())))[0][0]
    with database_down():
        missed = twiml(post(dial_action, call(DialCallStatus="no-answer")))
        answered = twiml(post(dial_action, call(DialCallStatus="completed")))
    assert ivr.shipped().spoken("emergency") in said(missed) and missed.find("Hangup") is not None
    assert said(answered) == "" and answered.find("Hangup") is not None


def test_without_the_file_a_caller_still_hears_the_911_line(line, data_dir):
    voice_fallback.path().unlink()
    with database_down():
        root = twiml(post(VOICE, call()))
    assert ivr.shipped().spoken("emergency") in said(root) and SORRY in said(root)
    assert dialled(root) == [] and root.find("Hangup") is not None


def test_a_practice_without_a_front_desk_gets_no_dial(practice):
    make_gateway(practice)
    voice_fallback.write()
    root = twiml(Client().post(FALLBACK, {"To": NUMBER}))
    assert practice.name in said(root) and dialled(root) == []


def test_the_fallback_url_is_posted_or_fetched_only(line):
    assert Client().put(FALLBACK).status_code == 405
    assert practice_name_in(Client().get(FALLBACK, {"To": NUMBER}), line)


def practice_name_in(response, practice: Practice) -> bool:  # noqa: ANN001
    return practice.name in said(twiml(response))


@pytest.mark.parametrize("to", ["", "client:alice", "+1617555\x000100", "+" + "9" * 400,
                                "<Say>hi</Say>"])
def test_the_fallback_url_answers_anything_with_the_911_line(line, to):
    """Unsigned and unchecked, so anyone may post anything: never a 500, nothing echoed."""
    root = twiml(Client().post(FALLBACK, {"To": to, "From": to}))
    assert ivr.shipped().spoken("emergency") in said(root) and dialled(root) == []
    assert not to or to not in said(root)
