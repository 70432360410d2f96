"""Texts to the practice number: answered at once with a PHI-free auto-reply, turned into a
conversation message by the worker, continued by follow-ups that are triaged again."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinicline import claims
from clinicline.gateways.models import InboundWebhook
from clinicline.gateways.twiml import message as reply_of
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.service import caller_index
from clinicline.intake import texts
from clinicline.intake.models import InboundText
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Delivery
from tests.conftest import signed_in
from tests.gateways.test_webhooks import PATIENT, SMS, make_gateway, post, text, twiml

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 23, 15, tzinfo=dt.UTC)
T1 = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)  # after anything sent in a test
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
    assert InboundText.objects.get().state == InboundText.State.WAITING


def test_a_text_is_stored_with_its_answer_in_two_inserts(gateway):
    """The webhook's cost is what the bench measures: intake's row, then the ledger's with
    its answer; no UPDATE."""
    with CaptureQueriesContext(connection) as queries:
        send("Can someone call me about my appointment?")
    writes = [q["sql"].split()[:3] for q in queries.captured_queries
              if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    tables = [InboundText._meta.db_table, InboundWebhook._meta.db_table]
    assert [(verb, table.strip('"')) for verb, _, table in writes] == [
        ("INSERT", tables[0]), ("INSERT", tables[1])]
    assert InboundWebhook.objects.get().response == reply_of(texts.AUTO_REPLY_TEXT)
    # A retried copy reads that answer, and adds nothing.
    again = text("Can someone call me about my appointment?",
                 MessageSid=InboundWebhook.objects.get().key)
    response = post(SMS, again)
    assert response.content.decode() == reply_of(texts.AUTO_REPLY_TEXT)
    assert InboundWebhook.objects.count() == 1 and InboundText.objects.count() == 1


@pytest.mark.parametrize("keyword", ["STOP", "stop", " Stop. ", "UNSUBSCRIBE", "alto",
                                     "HELP", "help!", "INFO"])
def test_a_keyword_gets_no_auto_reply_and_no_message_but_its_answer(gateway, keyword):
    assert not list(send(keyword).iter("Message"))
    assert texts.handle_texts() == 1
    assert not Message.objects.exists()
    assert InboundText.objects.get().state == InboundText.State.DONE
    (answer,) = Delivery.objects.all()  # the worker's one answer: the opt-out's or HELP's
    assert answer.purpose in (outbox.OPT_OUT_CONFIRMATION, outbox.HELP_ANSWER)


@pytest.mark.parametrize("reply", ["C", "1", "R", "3", "2", "YES"])
def test_a_reply_with_nothing_to_act_on_becomes_a_message_and_gets_the_auto_reply(gateway,
                                                                                  reply):
    """No reminder was texted to this number (and it never opted out): the text is kept
    as a message, never lost, and answered as any text is."""
    assert not list(send(reply).iter("Message"))
    texts.handle_texts()
    message = Message.objects.get()
    assert [t["body"] for t in message.conversation] == [reply]
    (answer,) = Delivery.objects.all()
    assert str(answer.body) == texts.AUTO_REPLY_TEXT


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
    assert InboundText.objects.get().state == InboundText.State.DONE
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


def test_a_claimed_text_is_not_claimed_again_until_its_lease_lapses(gateway):
    send("hello")
    due = InboundText.objects.filter(state=InboundText.State.WAITING)
    (claimed,) = claims.claim_due(due.filter(due_at__lte=T1), 5, due_at=T1 + texts.LEASE)
    assert claims.claim_due(due.filter(due_at__lte=T1), 5, due_at=T1 + texts.LEASE) == []
    assert texts.handle_texts(now=T1 + texts.LEASE) == 1  # a dead worker's text, taken over
    assert Message.objects.count() == 1


def test_a_worker_whose_lease_lapsed_touches_nothing(gateway):
    send("hello")
    due = InboundText.objects.filter(state=InboundText.State.WAITING)
    (slow,) = claims.claim_due(due, 1, attempts=F("attempts") + 1)  # then it stalls...
    (fresh,) = claims.claim_due(due, 1, attempts=F("attempts") + 1)  # ...past its lease
    assert texts.take(fresh) == 1
    assert texts.take(slow) == 0  # the stalled worker wakes up and touches nothing
    assert Message.objects.count() == 1


def test_a_failing_text_is_retried_then_kept_with_its_error(gateway, monkeypatch, caplog):
    send("My chest pain is back")

    def broken(text):
        raise KeyError("My chest pain is back")

    monkeypatch.setattr(texts, "handle", broken)
    now = timezone.now()
    for attempt in range(1, texts.MAX_TRIES + 1):
        assert texts.handle_texts(now=now) == 0
        waiting = InboundText.objects.get()
        assert (waiting.attempts, waiting.error) == (attempt, "not handled: KeyError")
        assert (waiting.state == InboundText.State.WAITING) == (attempt < texts.MAX_TRIES)
        if waiting.due_at is not None:
            assert waiting.due_at == now + claims.backoff(attempt, texts.RETRY_BASE_S)
            now = waiting.due_at
    assert InboundText.objects.get().state == InboundText.State.FAILED
    assert "chest" not in caplog.text  # the text is never logged
    monkeypatch.undo()
    InboundText.objects.update(state=InboundText.State.WAITING, due_at=now, attempts=0)
    assert texts.handle_texts(now=now) == 1  # fixed: handled again
    assert Message.objects.get().priority == "emergency"


# --- the record says what the caller was told ----------------------------------------------

CALL_911 = "Please call 911 now. Please do not wait for a reply to your text."


def test_an_emergency_text_gets_the_911_line_at_once_and_the_record_says_only_that(gateway):
    """The protocol's stroke script is for an agent to say; a texter was sent the
    auto-reply and, once triaged an emergency, the 911 line again: the record says so."""
    send("my dad has slurred speech and his face is drooping")
    texts.handle_texts()
    message = Message.objects.get()
    assert message.priority == "emergency"
    assert message.triage["said"] == [texts.AUTO_REPLY_TEXT, CALL_911]
    assert "stroke" in message.script  # the protocol's advice stays for staff to read...
    assert not any("stroke" in said for said in message.triage["said"])  # ...not as said
    (advice,) = Delivery.objects.filter(channel=Channel.SMS)
    assert (advice.to, advice.body) == (PATIENT, CALL_911)
    send("he is getting worse")  # the same conversation: not sent twice
    texts.handle_texts()
    assert Delivery.objects.filter(channel=Channel.SMS).count() == 1
    assert Message.objects.get().triage["said"].count(CALL_911) == 1


@pytest.mark.parametrize("body,line", [
    # an ingestion without symptoms: Poison Control's line, which the outbox lets through
    ("my 2 year old swallowed some of grandma's pills, he seems fine",
     "Please call Poison Control now at 1-800-222-1222."),
    ("i keep thinking everyone would be better off without me", "Please call or text 988"),
    ("mi papá no puede respirar", "Por favor llame al 911 ahora. Por favor no espere"),
])
def test_an_emergency_text_is_told_the_protocols_own_line(gateway, body, line):
    send(body)
    texts.handle_texts()
    (advice,) = Delivery.objects.filter(purpose="emergency-advice")
    assert advice.body.startswith(line)
    outbox.send_due()  # the outbox's last screen lets the public line through
    advice.refresh_from_db()
    assert advice.status == "sent", advice.error


def test_a_routine_text_records_the_auto_reply_and_sends_nothing_more(gateway):
    send("Can I get my flu shot on Friday?")
    texts.handle_texts()
    assert Message.objects.get().triage["said"] == [texts.AUTO_REPLY_TEXT]
    assert not Delivery.objects.exists()


def test_the_message_page_shows_what_was_sent_not_the_agents_script(gateway, practice, nurse):
    send("my dad has slurred speech and his face is drooping")
    texts.handle_texts()
    message = Message.objects.get()
    page = signed_in(nurse).get(reverse("inbox:message", kwargs={
        "practice": practice.slug, "message_id": message.pk})).content.decode()
    assert escape(texts.AUTO_REPLY_TEXT) in page and escape(CALL_911) in page
    assert "signs of a stroke" not in page  # the protocol's script was never said to them
    assert "The protocol advises calling 911." in page
