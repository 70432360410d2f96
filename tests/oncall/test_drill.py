"""The shared drill ``urgent-clinical`` run by the drill runner against this practice's own
on-call setup (Dr. Osei by text, one step, two rounds): the call taken, its page opened and
handed to the loopback gateway within the drill's time, and stopped by the acknowledgement;
left unacknowledged, it alarms. (The escalation's steps, rounds and alarm deliveries are
tests/oncall/test_pages.py's.)"""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.oncall.models import ContactMethod, Page, Policy
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import GatewayAccount
from tests.conftest import make_member
from tests.drills.support import drill, failed, measured

pytestmark = pytest.mark.django_db


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


def test_the_urgent_clinical_drill_pages_within_its_time_and_stops_at_the_ack(practice,
                                                                                on_call):
    report = drill("urgent-clinical", practice)
    assert failed(report) == []
    found = measured(report)
    assert (found["priority"], found["escalated"]) == ("emergency", True)
    assert 0 <= found["first_page_within_s"] <= 2
    assert "page acknowledged after 20 s" in report.notes
    page = Page.objects.get(practice=practice)
    assert (page.state, page.acknowledged_by) == (Page.State.ACKNOWLEDGED, on_call)
    (sms,) = Delivery.objects.filter(purpose="page", channel="sms")  # nothing after the ack
    assert (sms.to, sms.status) == ("+16175550190", Status.SENT)


def test_the_urgent_clinical_drill_alarms_when_nobody_acknowledges(practice, on_call):
    report = drill("urgent-clinical", practice, provider_acks_after_s=None,
                   expect={"escalated": True, "alarm_if_no_ack": True})
    assert failed(report) == []
    assert measured(report)["alarm_if_no_ack"] is True
    assert "page alarmed" in report.notes
    assert Delivery.objects.filter(purpose="page", channel="sms").exclude(
        idempotency_key__contains=":alarm:").count() == 2  # both rounds reached Dr. Osei
