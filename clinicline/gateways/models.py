"""The telephony edge: the ledger of inbound webhooks that makes them idempotent. (A
practice's carrier account is ``practices.GatewayAccount``; voicemail recordings are the
domain's, ``inbox.Recording``; the phone simulator's log is ``simulator.SimulatorEvent``.)"""

import uuid

from django.db import models

from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedJSONField


class Kind(models.TextChoices):
    VOICE = "voice"
    GATHER = "gather"        # keys pressed during a call
    PAGE = "page"            # a call of ours about a page, and each step of it
    OUTREACH = "outreach"    # a reminder or results call of ours, and each step of it
    RECORDING = "recording"
    SMS = "sms"
    STATUS = "status"


class InboundWebhook(PracticeOwned):
    """One webhook, once. The provider's id (CallSid, MessageSid, …) is the key: a retried
    request finds its row and gets the same answer, with no second effect."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=128, help_text="the provider's id(s) for this event")
    params = EncryptedJSONField(help_text="what the provider sent (may hold PHI)")
    response = models.TextField(blank=True, help_text="what we answered (TwiML; no PHI)")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.CharField(max_length=200, blank=True)
    # The gateway's own work on a row: a status callback that beat its delivery's vendor
    # id is due again at ``retry_at`` (``gateways.status``).
    retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="webhook_once")]

    def __str__(self) -> str:
        return f"{self.kind} webhook {self.key}"
