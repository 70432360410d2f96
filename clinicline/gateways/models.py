"""The telephony edge: the ledger of inbound webhooks that makes them idempotent, and the
phone simulator's log. (A practice's carrier account is ``practices.GatewayAccount``;
voicemail recordings are the domain's, ``inbox.Recording``.)"""

import uuid

from django.db import models

from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField


class Kind(models.TextChoices):
    VOICE = "voice"
    GATHER = "gather"        # keys pressed during a call
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


class SimulatorEvent(PracticeOwned):
    """What a virtual phone saw or did: texts in and out, calls and what was said."""

    class Direction(models.TextChoices):
        TO_PHONE = "to-phone"
        FROM_PHONE = "from-phone"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = EncryptedTextField(help_text="the virtual phone's number")
    number_index = models.CharField(max_length=64, db_index=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=8,
                            help_text="sms, call, keys, say, record, hangup, open")
    body = EncryptedTextField(blank=True)
    call_sid = models.CharField(max_length=64, blank=True, db_index=True)
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"simulated {self.kind} {self.direction}"


class Notice(PracticeOwned):
    """An in-app notice: what the in-app transport delivers to a member's home page."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notices")
    delivery = models.OneToOneField("outbox.Delivery", on_delete=models.CASCADE,
                                    related_name="+")
    body = models.CharField(max_length=500, help_text="PHI-free, like every notification")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "user", "read_at", "created_at"])]

    def __str__(self) -> str:
        return f"notice for {self.user_id}"
