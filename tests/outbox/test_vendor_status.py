"""Vendor status callbacks update the row they name. A delivered message never moves back
and is never sent again, whatever arrives late or twice."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import Practice
from clinicline.simulator.models import SimulatorEvent

pytestmark = pytest.mark.django_db


def sent_text(practice: Practice, key: str = "reminder-1") -> Delivery:
    """A text the loopback gateway has taken (it lands on the simulated phone)."""
    delivery = service.enqueue(practice, channel="sms", to="+16175550142",
                               body="Please call us at (617) 555-0100.", purpose="reminder",
                               idempotency_key=key)
    service.send_due()
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.status == Status.SENT and delivery.vendor_id
    return delivery


def status_of(delivery: Delivery) -> tuple[str, str]:
    row = Delivery.objects.get(pk=delivery.pk)
    return row.status, row.error


def test_delivered_is_recorded_once_and_stays(practice):
    delivery = sent_text(practice)
    assert service.vendor_status(delivery.vendor_id, Status.DELIVERED) == 1
    assert service.vendor_status(delivery.vendor_id, Status.DELIVERED) == 0  # a retried callback
    for late in (Status.FAILED, Status.SENT, Status.QUEUED, Status.SENDING):
        service.vendor_status(delivery.vendor_id, late, error="30003")
        assert status_of(delivery) == (Status.DELIVERED, "")
    assert Delivery.objects.get(pk=delivery.pk).delivered_at is not None


def test_a_delivered_message_is_never_sent_again(practice):
    delivery = sent_text(practice)
    service.vendor_status(delivery.vendor_id, Status.DELIVERED)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1), tick=False):
        assert service.requeue_stuck() == 0
        assert service.send_due() == 0
    assert SimulatorEvent.objects.filter(delivery=delivery).count() == 1


def test_a_failure_the_carrier_reports_fails_the_row_and_is_not_retried(practice):
    delivery = sent_text(practice)
    assert service.vendor_status(delivery.vendor_id, Status.FAILED, error="undelivered 30003") == 1
    assert status_of(delivery) == (Status.FAILED, "undelivered 30003")
    assert service.send_due() == 0
    assert SimulatorEvent.objects.filter(delivery=delivery).count() == 1


def test_an_arrival_reported_after_a_failure_wins(practice):
    delivery = sent_text(practice)
    service.vendor_status(delivery.vendor_id, Status.FAILED, error="undelivered")
    service.vendor_status(delivery.vendor_id, Status.DELIVERED)
    assert status_of(delivery) == (Status.DELIVERED, "")


def test_callbacks_touch_only_their_own_practices_rows(practice, other_practice):
    delivery = sent_text(practice)
    assert service.vendor_status(delivery.vendor_id, Status.FAILED,
                                 practice=other_practice) == 0
    assert status_of(delivery) == (Status.SENT, "")
    assert service.vendor_status(delivery.vendor_id, Status.DELIVERED, practice=practice) == 1


@pytest.mark.parametrize("vendor_id", ["", "SM" + "0" * 32])
def test_an_unknown_or_empty_vendor_id_changes_nothing(practice, vendor_id):
    delivery = sent_text(practice)
    queued = service.enqueue(practice, channel="sms", to="+16175550142", body="Call us.",
                             purpose="reminder", idempotency_key="not-sent-yet")
    assert service.vendor_status(vendor_id, Status.DELIVERED) == 0
    assert status_of(delivery) == (Status.SENT, "")
    assert status_of(queued) == (Status.QUEUED, "")
