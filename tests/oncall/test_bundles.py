"""Bundling: several pages texted to one number inside a minute are one text ("2 URGENT
messages"), the first at once and never delayed. A page owned before the bundle goes drops
out; numbers and practices never mix; a bundle sent twice is one text; replies still name
a page by its code. The clock is pinned and jumped, never slept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import TestCase, override_settings

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import bundles, pages
from clinicline.oncall.models import (
    Bundle,
    BundleEntry,
    ContactMethod,
    NotificationRule,
    Page,
    PageEvent,
)
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Delivery, Status
from clinicline.outbox.service import screened
from clinicline.practices.models import Practice
from tests.conftest import make_member
from tests.oncall.test_pages import (
    MANAGER_PHONE,
    PROVIDER_PHONE,
    SECRETS,
    SITE,
    policy,
    reachable,
    reply,
    texts_to,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 5, 7, 10, tzinfo=dt.UTC)  # 02:10 in Boston


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def paged(practice: Practice, seconds: float) -> Page:
    """An urgent call (a swollen calf after surgery) taken ``seconds`` after T0, committed:
    its page's first step runs as it commits."""
    with time_machine.travel(at(seconds), tick=False), \
            TestCase.captureOnCommitCallbacks(execute=True):
        message = take_message(practice, call_types_for(practice).get("clinical"), {
            "patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
            "callback_number": "+16175550142",
            "concern": "Knee surgery two days ago; his calf is swollen and painful."},
            answers={"breathing": False, "chest_pain": False, "recent_surgery": True,
                     "postop_signs": True})
    assert message.priority == "urgent"
    return Page.objects.get(message=message)


def send(seconds: float) -> int:
    """The worker's bundle job at ``seconds`` after T0."""
    with time_machine.travel(at(seconds), tick=False):
        return bundles.send_due(now=at(seconds))


def notified(page: Page) -> PageEvent:
    return page.events.get(kind=PageEvent.Kind.NOTIFIED, channel="sms")


@pytest.fixture
def provider(practice: Practice) -> User:
    user = make_member(practice, Role.PROVIDER, "osei")
    reachable(user, PROVIDER_PHONE)
    policy(practice, {"target": Step.Target.MEMBER, "member": user, "wait_s": 600})
    return user


@override_settings(SITE_URL=SITE)
def test_the_first_text_goes_at_once_and_three_pages_inside_a_minute_are_two_texts(
        practice, provider):
    first = paged(practice, 0)
    [alone] = texts_to(PROVIDER_PHONE)
    assert alone.due_at == at(0) and f"(code {first.code})" in alone.body  # never held
    second, third = paged(practice, 10), paged(practice, 25)
    assert len(texts_to(PROVIDER_PHONE)) == 1  # held for the minute the first began
    assert notified(second).delivery is None and "bundle" in notified(second).detail
    assert send(59) == 0
    assert send(60) == 1
    first_text, bundle_text = texts_to(PROVIDER_PHONE)
    assert first_text == alone and bundle_text.status == Status.QUEUED
    body = bundle_text.body
    assert body.startswith("Riverside Family Medicine: 2 URGENT messages. Open "
                           f"{SITE}/a/{second.link_token} for the first (1 more) or reply 1 "
                           "and a code to acknowledge: ")
    assert body.endswith(f": {second.code}, {third.code}.")
    assert not [s for s in SECRETS if s.lower() in body.lower()]
    assert screened(practice, body) == []
    # Each page's own "notified" event carries the text that reached its member.
    assert notified(first).delivery == alone
    assert notified(second).delivery == notified(third).delivery == bundle_text
    bundled = AuditEvent.objects.filter(action=Action.PAGE_NOTIFY,
                                        reason__contains="a bundle of 2")
    assert {e.object_id for e in bundled} == {str(second.pk), str(third.pk)}
    assert send(3600) == 0  # sent once


def test_the_bundles_text_begins_the_next_minute_and_a_quiet_minute_lets_the_next_go(
        practice, provider):
    paged(practice, 0)
    paged(practice, 30)
    assert send(60) == 1
    paged(practice, 70)  # 10 s after the bundle's text: held again, until 120 s
    assert len(texts_to(PROVIDER_PHONE)) == 2
    assert Bundle.objects.get(state=Bundle.State.HOLDING).due_at == at(120)
    assert send(120) == 1
    assert len(texts_to(PROVIDER_PHONE)) == 3
    late = paged(practice, 190)  # 70 s after the last text: it goes at once, alone
    assert len(texts_to(PROVIDER_PHONE)) == 4
    assert notified(late).delivery == texts_to(PROVIDER_PHONE)[-1]
    assert send(3600) == 0


def test_a_page_acknowledged_before_the_bundle_goes_drops_out_and_all_of_them_send_nothing(
        practice, provider):
    paged(practice, 0)
    second, third = paged(practice, 10), paged(practice, 20)
    pages.acknowledge(second, provider, via="link", now=at(30))
    assert send(60) == 1
    bundle_text = texts_to(PROVIDER_PHONE)[-1]
    assert "1 URGENT message. " in bundle_text.body and third.code in bundle_text.body
    assert second.code not in bundle_text.body
    # Next minute: both held pages owned before it ends, so no text at all.
    fourth, fifth = paged(practice, 70), paged(practice, 80)
    for page in (fourth, fifth):
        pages.acknowledge(page, provider, via="link", now=at(90))
    assert send(120) == 0
    assert len(texts_to(PROVIDER_PHONE)) == 2
    assert Bundle.objects.filter(state=Bundle.State.CLOSED).count() == 1
    # Nothing went, so nothing began a minute: the next page's text goes at once.
    paged(practice, 130)
    assert len(texts_to(PROVIDER_PHONE)) == 3


def test_two_numbers_are_never_bundled_together(practice):
    for name, number in (("manager", MANAGER_PHONE), ("deputy", "+16175550193")):
        reachable(make_member(practice, Role.PRACTICE_MANAGER, name), number)
    policy(practice, {"target": Step.Target.MANAGER, "wait_s": 600})
    first, second = paged(practice, 0), paged(practice, 15)
    assert len(texts_to(MANAGER_PHONE)) == len(texts_to("+16175550193")) == 1
    assert send(60) == 2  # one bundle per number
    for number in (MANAGER_PHONE, "+16175550193"):
        alone, bundled = texts_to(number)
        assert first.code in alone.body and second.code in bundled.body
        assert "1 URGENT message" in bundled.body and first.code not in bundled.body


def test_another_practices_pages_to_the_same_number_never_mix(practice, other_practice,
                                                               provider):
    # The same provider also covers nights for a second practice, on the same phone.
    lakeside = make_member(other_practice, Role.PROVIDER, "osei-lakeside")
    reachable(lakeside, PROVIDER_PHONE)
    policy(other_practice, {"target": Step.Target.MEMBER, "member": lakeside,
                            "wait_s": 600})
    paged(practice, 0)
    theirs = paged(other_practice, 10)
    # Lakeside's first text goes at once: Riverside's minute is Riverside's alone.
    assert len(texts_to(PROVIDER_PHONE)) == 2
    assert notified(theirs).delivery.body.startswith("Lakeside Pediatrics: URGENT message.")
    assert not BundleEntry.objects.exists()


def test_a_step_run_twice_and_a_bundle_sent_twice_are_one_text(practice, provider):
    paged(practice, 0)
    second = paged(practice, 10)
    stale = Page.objects.get(pk=second.pk)
    stale.step, stale.round = 0, 0  # as a second worker saw it before the first committed
    assert pages.run_step(stale, at(10)) == 0
    assert BundleEntry.objects.count() == 1
    bundle = Bundle.objects.get(state=Bundle.State.HOLDING, due_at__isnull=False)
    # Two workers that both think they hold it: the second finds it sent.
    assert bundles.send(bundle, at(60)) == 1
    assert bundles.send(bundle, at(60)) == 0
    assert send(61) == 0
    assert Delivery.objects.filter(idempotency_key__startswith="page-bundle:").count() == 1
    assert len(texts_to(PROVIDER_PHONE)) == 2


def test_replies_still_name_a_page_by_its_code_with_bundles(practice, provider):
    first = paged(practice, 0)
    second, third = paged(practice, 10), paged(practice, 20)
    send(60)
    messages = Message.objects.count()
    reply(practice, PROVIDER_PHONE, "1", 1)
    answer = Delivery.objects.get(idempotency_key__startswith="page-reply:")
    assert answer.body.startswith("You have 3 pages open. Reply 1 and the code: ")
    assert {first.code, second.code, third.code} <= set(re.findall(r"\d{4}", answer.body))
    reply(practice, PROVIDER_PHONE, f"1 {third.code}", 2)
    states = {p.pk: p.state for p in Page.objects.all()}
    assert states == {first.pk: Page.State.OPEN, second.pk: Page.State.OPEN,
                      third.pk: Page.State.ACKNOWLEDGED}
    assert Page.objects.get(pk=third.pk).acknowledged_by == provider
    assert Message.objects.count() == messages  # replies, not new messages


def test_a_rules_delay_counts_from_when_the_text_goes_and_calls_are_never_bundled(practice):
    provider = make_member(practice, Role.PROVIDER, "osei")
    reachable(provider, PROVIDER_PHONE, delay_s=30)  # "text me after 30 s"
    voice = ContactMethod.objects.create(user=provider, kind=ContactMethod.Kind.VOICE,
                                         address=PROVIDER_PHONE, verified_at=T0)
    NotificationRule.objects.create(user=provider, method=voice, delay_s=0)
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 600})
    paged(practice, 0)
    second = paged(practice, 10)
    # The first text goes at 30 s as its rule says, alone; the second (due at 40 s) falls
    # in the minute that text begins, so it waits until 90 s.
    [alone] = texts_to(PROVIDER_PHONE)
    assert alone.due_at == at(30)
    assert Bundle.objects.get(due_at__isnull=False).due_at == at(90)
    assert send(89) == 0 and send(90) == 1
    assert second.code in texts_to(PROVIDER_PHONE)[-1].body
    assert Delivery.objects.filter(purpose="page", channel="voice").count() == 2


@override_settings(SITE_URL=SITE)  # the secure-link host: its links may be sent
def test_every_bundles_codes_pass_the_outboxs_last_screen(practice):
    """A bundle lists several codes: no run of them may look like a phone number or a
    record to the outbox, or the bundle would be withheld."""
    for code in range(2000, 10000, 3):
        codes = ", ".join(str(c) for c in (code, code + 1, code + 2) if c < 10000)
        body = (f"Riverside Family Medicine: 3 EMERGENCY messages. Open {SITE}/a/"
                f"{pages.TOKEN_ALPHABET[-pages.TOKEN_LENGTH:]} for the first (2 more) or "
                f"reply 1 and a code to acknowledge: {codes}.")
        assert screened(practice, body) == [], \
            codes
