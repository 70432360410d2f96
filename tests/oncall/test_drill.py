"""The shared drill ``urgent-clinical`` through the real pipeline: the call taken, its page
opened, the first page handed to the gateway (the phone simulator's loopback carrier) by
the worker's own jobs, acknowledged when the provider acknowledges, and alarmed when
nobody does. Time is the drill's own: the worker's jobs take ``now``."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.test import TestCase
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import pages
from clinicline.oncall.models import ContactMethod, Page, Policy
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import GatewayAccount
from tests.conftest import make_member
from tests.shared import SCENARIOS

pytestmark = pytest.mark.django_db

DRILL = yaml.safe_load((SCENARIOS / "urgent-clinical.yaml").read_text())
EXPECT = DRILL["expect"]


@pytest.fixture
def on_call(practice):
    GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                  account_sid="AC" + "1" * 32, auth_token="t",
                                  test_mode=True)  # the simulator's carrier
    provider = make_member(practice, Role.PROVIDER, "osei")
    ContactMethod.objects.create(user=provider, kind=ContactMethod.Kind.SMS,
                                 address="+16175550190", verified_at=timezone.now())
    policy = Policy.objects.create(practice=practice, name="Nights", repeat=2,
                                   is_default=True)
    Step.objects.create(policy=policy, position=0, target=Step.Target.MEMBER,
                        member=provider, wait_s=60)
    return provider


def take_the_call(practice):
    fields = dict(DRILL["fields"])
    fields["date_of_birth"] = dt.date.fromisoformat(fields["date_of_birth"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        return take_message(practice, call_types_for(practice).get(DRILL["call_type"]),
                            fields)


def worker_pass(now):
    """The fast lane's page and outbox jobs, once: the pages at ``now``, the outbox what
    is due by the clock (a step of the jumped future queues its texts for then)."""
    return pages.run_due(now=now) + outbox.send_due()


def test_the_urgent_clinical_drill_pages_within_its_time_and_stops_at_the_ack(practice,
                                                                                on_call):
    message = take_the_call(practice)
    assert message.priority == EXPECT["priority"]
    page = Page.objects.get(message=message)
    assert EXPECT["escalated"] is True and page.state == Page.State.OPEN
    worker_pass(timezone.now())
    first = Delivery.objects.filter(purpose="page", channel="sms").get()
    assert first.status in (Status.SENT, Status.DELIVERED), first.error
    assert (first.sent_at - message.created_at).total_seconds() <= EXPECT["first_page_within_s"]
    acked_at = message.created_at + dt.timedelta(seconds=DRILL["provider_acks_after_s"])
    assert pages.acknowledge(page, on_call, via="link", now=acked_at).first
    for seconds in range(0, 3600, 30):  # an hour of worker passes: nothing more
        worker_pass(acked_at + dt.timedelta(seconds=seconds))
    page.refresh_from_db()
    assert page.state == Page.State.ACKNOWLEDGED
    assert Delivery.objects.filter(purpose="page", channel="sms").count() == 1


def test_the_urgent_clinical_drill_alarms_when_nobody_acknowledges(practice, on_call):
    # Issue 8 names an ``alarm_if_no_ack`` expectation; the drill file does not carry it
    # (yet), and DESIGN's invariant asks it anyway: never silent, so alarmed.
    assert EXPECT.get("alarm_if_no_ack", True) is True
    message = take_the_call(practice)
    page = Page.objects.get(message=message)
    for seconds in range(0, 600, 5):
        worker_pass(message.created_at + dt.timedelta(seconds=seconds))
    page.refresh_from_db()
    assert page.state == Page.State.ALARMED
    assert Delivery.objects.filter(purpose="page", channel="sms").exclude(
        idempotency_key__contains=":alarm:").count() == 2  # both rounds
    alarm = Delivery.objects.get(idempotency_key__contains=":alarm:sms")
    assert alarm.to == (practice.front_desk_number or practice.callback_number)
    assert Delivery.objects.filter(idempotency_key__contains=":alarm:voice").exists()
