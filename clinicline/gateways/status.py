"""Status callbacks: how a text or call we sent ended, in the outbox's terms.

A callback can beat the worker, which stores the vendor's id only once the vendor has
answered: such a callback is kept due (``retry_at``), and ``retry_early_statuses`` applies
it once the id is there, or gives up after ``EARLY_STATUS_WINDOW``.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinicline import claims
from clinicline.gateways.inbound import Inbound
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status

# Twilio's words for how a message or call ended, in the outbox's terms.
DELIVERED = {"delivered", "read", "completed"}
FAILED = {"failed", "undelivered", "busy", "no-answer", "canceled"}
ERROR_CODE = re.compile(r"\d{1,8}")
NO_DELIVERY_YET = "waiting for the delivery's vendor id"
EARLY_STATUS_WINDOW = dt.timedelta(minutes=10)
RETRY_EVERY = dt.timedelta(seconds=5)
LEASE = dt.timedelta(seconds=30)
BATCH = 100


def callback(inbound: Inbound) -> str:
    apply_status(inbound.params, inbound.webhook, timezone.now())
    return ""


def apply_status(params: dict[str, str], webhook: InboundWebhook, now: dt.datetime) -> None:
    """Move the delivery a status callback names, or leave the callback due for later."""
    state = params.get("MessageStatus") or params.get("CallStatus", "")
    vendor_id = params.get("MessageSid") or params.get("CallSid", "")
    practice = webhook.practice_id
    if state not in DELIVERED | FAILED:
        webhook.processed_at = now
        return
    if not Delivery.objects.filter(vendor_id=vendor_id, practice_id=practice).exists():
        webhook.error, webhook.retry_at = NO_DELIVERY_YET, now + RETRY_EVERY
        return
    webhook.processed_at, webhook.error, webhook.retry_at = now, "", None
    # Tenancy: a practice's signed callback moves only that practice's deliveries.
    if state in DELIVERED:
        outbox.vendor_status(vendor_id, Status.DELIVERED, practice=practice)
    else:
        code = params.get("ErrorCode", "")
        code = f" (error {code})" if ERROR_CODE.fullmatch(code) else ""
        outbox.vendor_status(vendor_id, Status.FAILED, error=f"Twilio: {state}{code}",
                             practice=practice)


def retry_early_statuses(now: dt.datetime | None = None) -> int:
    """The worker's job: apply each due early callback once its delivery has the vendor id;
    give up on those that still name no delivery after ``EARLY_STATUS_WINDOW``."""
    now = now or timezone.now()
    due = InboundWebhook.objects.filter(kind=Kind.STATUS, processed_at__isnull=True,
                                        retry_at__lte=now).order_by("retry_at")
    applied = 0
    for webhook in claims.claim_due(due, BATCH, retry_at=now + LEASE,
                                    attempts=F("attempts") + 1):
        with transaction.atomic():
            apply_status(webhook.params, webhook, now)
            if webhook.processed_at is None and webhook.received_at < now - EARLY_STATUS_WINDOW:
                webhook.processed_at, webhook.retry_at = now, None
                webhook.error = "no delivery has that vendor id"
            InboundWebhook.objects.filter(pk=webhook.pk).update(
                processed_at=webhook.processed_at, error=webhook.error,
                retry_at=webhook.retry_at)
            applied += webhook.error == ""
    return applied
