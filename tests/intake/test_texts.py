"""Texts to the practice number: answered at once with a PHI-free auto-reply, turned into a
conversation message by the worker, continued by follow-ups that are triaged again."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicline.gateways.models import InboundWebhook
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.service import caller_index
from clinicline.intake import texts
from tests.gateways.test_webhooks import PATIENT, SMS, make_gateway, post, text, twiml

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 23, 15, tzinfo=dt.UTC)
SIDS = (f"SM{n:032x}" for n in itertools.count(1))


@pytest.fixture
def gateway(practice):
    return make_gateway(practice, test_mode=True)


def send(body: str, number: str = PATIENT) -> ET.Element:
    return twiml(post(SMS, text(body, MessageSid=next(SIDS), From=number)))


def test_a_text_is_answered_at_once_with_the_emergency_line_and_nothing_else(gateway):
    root = send("My daughter Emma has a fever of 103, DOB 2/4/2019")
    (reply,) = root.iter("Message")
    assert "911" in reply.text and "emergenc" in reply.text
    assert reply.text == texts.AUTO_REPLY_TEXT  # a constant: nothing of the text comes back
    assert not Message.objects.exists()  # the worker makes the message, not the webhook
    assert InboundWebhook.objects.get().processed_at is None


def test_a_text_is_stored_with_its_answer_in_one_statement(gateway):
    """The webhook's cost is what the bench measures: one INSERT, answer included."""
    with CaptureQueriesContext(connection) as queries:
        send("Can someone call me about my appointment?")
    table = InboundWebhook._meta.db_table
    writes = [q["sql"].split()[0] for q in queries.captured_queries if table in q["sql"]
              and q["sql"].split()[0] in ("INSERT", "UPDATE")]
    assert writes == ["INSERT"]
    assert InboundWebhook.objects.get().response == texts.AUTO_REPLY
    # A retried copy reads that answer, and adds nothing.
    again = text("Can someone call me about my appointment?",
                 MessageSid=InboundWebhook.objects.get().key)
    response = post(SMS, again)
    assert response.content.decode() == texts.AUTO_REPLY
    assert InboundWebhook.objects.count() == 1


@pytest.mark.parametrize("keyword", sorted(texts.KEYWORDS) + ["stop", " Stop. ", "help!"])
def test_a_keyword_gets_no_auto_reply_and_no_message(gateway, keyword):
    assert not list(send(keyword).iter("Message"))
    assert texts.handle_texts() == 1
    assert not Message.objects.exists()
    assert InboundWebhook.objects.get().processed_at is not None


def test_a_text_becomes_a_conversation_message_triaged_like_any_other(gateway, practice):
    with time_machine.travel(T0, tick=False):
        send("Can I get a refill of my lisinopril?")
        assert texts.handle_texts() == 1
    message = Message.objects.get()
    assert (message.source, message.call_type, message.priority) == (Source.SMS, "other",
                                                                     "routine")
    assert message.fields == {"message": "Can I get a refill of my lisinopril?",
                              "callback_number": PATIENT}
    assert message.caller_index == caller_index(practice, PATIENT)
    assert message.conversation == [{"at": T0.isoformat(), "from": "caller",
                                     "body": "Can I get a refill of my lisinopril?"}]
    assert InboundWebhook.objects.get().processed_at == T0
    assert texts.handle_texts() == 0  # once


def test_a_follow_up_with_a_red_flag_raises_the_conversation(gateway):
    send("Question about my visit tomorrow")
    texts.handle_texts()
    send("Actually now I have crushing chest pain")
    assert texts.handle_texts() == 1

    message = Message.objects.get()
    assert message.priority == "emergency" and message.triage["raised_by"] == "text"
    assert [e["body"] for e in message.conversation] == [
        "Question about my visit tomorrow", "Actually now I have crushing chest pain"]


def test_a_negated_red_flag_does_not_raise(gateway):
    send("Please call me about my results")
    texts.handle_texts()
    send("no chest pain")
    texts.handle_texts()
    message = Message.objects.get()
    assert message.priority == "routine" and len(message.conversation) == 2


def test_a_red_flag_in_the_first_text_makes_an_emergency(gateway):
    send("My husband collapsed and is not breathing")
    texts.handle_texts()
    assert Message.objects.get().priority == "emergency"


def test_other_numbers_closed_and_stale_conversations_start_new_messages(gateway):
    with time_machine.travel(T0, tick=False):
        send("first")
        send("from someone else", number="+16175550177")
        texts.handle_texts()
    assert Message.objects.count() == 2
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        send("a day later")
        texts.handle_texts()
    assert Message.objects.count() == 3
    Message.objects.update(status=MessageStatus.CLOSED)
    send("after it was closed")
    texts.handle_texts()
    assert Message.objects.exclude(status=MessageStatus.CLOSED).count() == 1


def test_a_claimed_text_is_not_claimed_again(gateway):
    send("hello")
    webhook = InboundWebhook.objects.get()
    assert texts.claim(webhook.pk) is not None
    assert texts.claim(webhook.pk) is None


def test_a_failing_text_is_retried_then_kept_with_its_error(gateway, monkeypatch, caplog):
    send("My chest pain is back")

    def broken(webhook):
        raise KeyError("My chest pain is back")

    monkeypatch.setattr(texts, "handle", broken)
    for attempt in range(1, texts.MAX_TRIES + 1):
        assert texts.handle_texts() == 0
        webhook = InboundWebhook.objects.get()
        assert webhook.error == f"text not handled ({attempt}): KeyError"
        assert (webhook.processed_at is None) == (attempt < texts.MAX_TRIES)
    assert "chest" not in caplog.text  # the text is never logged
    monkeypatch.undo()
    InboundWebhook.objects.update(processed_at=None, error="")  # fixed: handled again
    assert texts.handle_texts() == 1 and Message.objects.get().priority == "emergency"
