"""The one conversation view: Walter Okafor's texts and the practice's replies on the
message page; Grace, the practice manager, answers with an approved template or free words that the
PHI guard passes; a second practice's admin sees nothing."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.inbox.models import Message
from clinicline.intake import texts
from clinicline.outbox.models import Delivery
from clinicline.outreach import replies
from tests.conftest import make_member, signed_in
from tests.gateways.test_webhooks import PATIENT, SMS, make_gateway, post, text

pytestmark = pytest.mark.django_db
SIDS = (f"SM{n:032x}" for n in itertools.count(5000))


@pytest.fixture
def manager(practice):
    """Grace, the practice manager, whose queue a routine text lands in."""
    return make_member(practice, Role.PRACTICE_MANAGER, "grace")


@pytest.fixture
def conversation(practice, patient):
    make_gateway(practice, test_mode=True)
    post(SMS, text("Can someone call me about my bill?", MessageSid=next(SIDS)))
    texts.handle_texts()
    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(patient=patient)  # matched to Walter
    return Message.objects.get()


def page_of(client, message) -> str:
    return client.get(reverse("inbox:message", kwargs={
        "practice": message.practice.slug, "message_id": message.pk})).content.decode()


def reply(client, message, **data):
    return client.post(reverse("inbox:reply", kwargs={
        "practice": message.practice.slug, "message_id": message.pk}), data)


def staff_replies() -> list[Delivery]:
    return list(Delivery.objects.filter(purpose=replies.STAFF_PURPOSE))


def test_the_page_offers_the_approved_templates_as_they_would_go(conversation, manager):
    page = page_of(signed_in(manager), conversation)
    assert "Reply by text" in page
    assert escape("Riverside Family Medicine: please call us at 617-555-0100 about your "
                  "account. Reply STOP to opt out.") in page


def test_a_template_reply_is_queued_added_to_the_conversation_and_audited(conversation, manager):
    client = signed_in(manager)
    response = reply(client, conversation, template="billing", body="ignored")
    assert response.status_code == 302
    (sent,) = staff_replies()
    assert str(sent.body) == ("Riverside Family Medicine: please call us at 617-555-0100 "
                              "about your account. Reply STOP to opt out.")
    assert str(sent.to) == PATIENT and sent.patient_id == conversation.patient_id
    conversation.refresh_from_db()
    assert [t["from"] for t in conversation.conversation] == ["caller", "staff"]
    event = AuditEvent.objects.get(action=Action.STAFF_REPLY)
    assert (event.actor_id, event.reason, event.outcome) == (
        manager.pk, "template billing", Outcome.SUCCESS)
    assert "(reply)" in page_of(client, conversation)


def test_free_words_that_pass_the_guard_are_sent(conversation, manager):
    reply(signed_in(manager), conversation, body="Thank you, we will call you this afternoon.")
    (sent,) = staff_replies()
    assert str(sent.body) == "Thank you, we will call you this afternoon."


@pytest.mark.parametrize("body", [
    "Hi Walter, we will call you this afternoon.",
    "Your refill of metformin is ready.",
    "We have you as born 04/02/1958, is that right?",
    "Your MRN is RFM-100142.",
])
def test_a_reply_the_guard_blocks_says_why_and_sends_nothing(conversation, manager, body):
    response = reply(signed_in(manager), conversation, body=body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not sent: the reply looks like it holds" in page
    assert escape(body) not in page  # the kinds found, never the words
    assert not staff_replies()
    event = AuditEvent.objects.get(action=Action.STAFF_REPLY)
    assert event.outcome == Outcome.DENIED and event.reason.startswith("blocked by the PHI")
    assert "Walter" not in event.reason and "metformin" not in event.reason
    conversation.refresh_from_db()
    assert len(conversation.conversation) == 1


def test_a_posted_template_name_that_is_not_one_is_refused(conversation, manager):
    response = reply(signed_in(manager), conversation, template="appointment-reminders")
    assert response.status_code == 400 and not staff_replies()


def test_an_empty_reply_is_refused(conversation, manager):
    assert reply(signed_in(manager), conversation, body="   ").status_code == 400


def test_after_stop_the_page_says_so_and_no_reply_can_be_sent(conversation, manager):
    post(SMS, text("STOP", MessageSid=next(SIDS)))
    texts.handle_texts()
    client = signed_in(manager)
    page = page_of(client, conversation)
    assert "This number opted out of texts" in page and "Send reply" not in page
    assert reply(client, conversation, body="Thank you, we will call.").status_code == 400
    assert not staff_replies()


def test_another_practice_cannot_reply(conversation, other_admin):
    response = reply(signed_in(other_admin), conversation, body="Hello")
    assert response.status_code == 404 and not staff_replies()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=600), template=st.sampled_from(["", "billing", "x", "care-team"]))
def test_any_reply_gets_a_redirect_or_a_400_never_a_500(conversation, manager, body, template):
    response = reply(signed_in(manager), conversation, body=body, template=template)
    assert response.status_code in (302, 400)
