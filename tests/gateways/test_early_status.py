"""A status callback can arrive before the worker has stored the vendor's id (the carrier
answers the send and calls back at once). It is kept, not lost: the worker applies it once
the id is there, and gives up, saying so, only after a window."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.gateways import status
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.jobs import job
from clinicline.outbox.models import Delivery, Status
from tests.gateways.test_webhooks import (
    ACCOUNT_SID,
    MESSAGE_SID,
    NUMBER,
    PATIENT,
    STATUS,
    gateway,  # noqa: F401 (fixture)
    post,
    sent_delivery,
)

pytestmark = pytest.mark.django_db

DELIVERED = {"MessageSid": MESSAGE_SID, "MessageStatus": "delivered", "From": NUMBER,
             "To": PATIENT, "AccountSid": ACCOUNT_SID}


def test_a_callback_before_the_vendor_id_is_applied_once_the_id_is_stored(gateway):  # noqa: F811
    assert post(STATUS, DELIVERED).status_code == 200
    webhook = InboundWebhook.objects.get(kind=Kind.STATUS)
    assert (webhook.processed_at, webhook.error) == (None, status.NO_DELIVERY_YET)
    assert webhook.retry_at is not None
    assert job("status-callbacks").run() == 0  # not due yet
    soon = timezone.now() + status.RETRY_EVERY
    assert status.retry_early_statuses(now=soon) == 0  # still nothing to apply it to

    delivery = sent_delivery(gateway.practice, MESSAGE_SID)  # the worker stores the id
    later = soon + status.RETRY_EVERY
    assert status.retry_early_statuses(now=later - dt.timedelta(seconds=1)) == 0  # waits
    assert status.retry_early_statuses(now=later) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    webhook.refresh_from_db()
    assert webhook.processed_at is not None and webhook.error == ""
    assert webhook.attempts == 2
    assert status.retry_early_statuses(now=later + status.LEASE) == 0  # applied once


def test_a_callback_for_no_delivery_is_given_up_after_the_window(gateway):  # noqa: F811
    assert post(STATUS, DELIVERED).status_code == 200
    later = timezone.now() + status.EARLY_STATUS_WINDOW + dt.timedelta(seconds=1)
    assert status.retry_early_statuses(now=later) == 0
    webhook = InboundWebhook.objects.get(kind=Kind.STATUS)
    assert webhook.processed_at is not None
    assert webhook.error == "no delivery has that vendor id"
    assert not InboundWebhook.objects.filter(error=status.NO_DELIVERY_YET).exists()


def test_a_waiting_callback_never_moves_another_practices_delivery(gateway, other_practice):  # noqa: F811
    theirs = sent_delivery(other_practice, MESSAGE_SID)
    assert post(STATUS, DELIVERED).status_code == 200  # Riverside's signed callback
    assert status.retry_early_statuses(now=timezone.now() + status.RETRY_EVERY) == 0
    theirs.refresh_from_db()
    assert theirs.status == Status.SENT
    assert Delivery.objects.filter(status=Status.DELIVERED).count() == 0


def test_an_interim_state_is_processed_without_waiting(gateway):  # noqa: F811
    assert post(STATUS, {**DELIVERED, "MessageStatus": "queued"}).status_code == 200
    webhook = InboundWebhook.objects.get(kind=Kind.STATUS)
    assert webhook.processed_at is not None and webhook.error == ""
