"""The telephony edge: each practice's gateway account, the ledger of inbound webhooks that
makes them idempotent, and voicemail recordings."""

import uuid

from django.db import models

from clinicline.practices.models import PracticeOwned, e164
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField


class GatewayAccount(PracticeOwned):
    """A practice's own Twilio account (bring your own). In test mode outbound messages go
    to the phone simulator (``clinicline.simulator``) instead of the carrier; inbound
    webhooks are checked the same."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone_number = models.CharField(max_length=16, unique=True, validators=[e164],
                                    help_text="the number patients dial; finds the practice")
    account_sid = models.CharField(max_length=64)
    auth_token = EncryptedTextField()
    test_mode = models.BooleanField(default=True)
    delete_recordings = models.BooleanField(
        default=True, help_text="delete voicemail audio from the carrier once fetched")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice"], name="one_gateway_per_practice"),
        ]

    def __str__(self) -> str:
        return f"gateway {self.phone_number}{' (test mode)' if self.test_mode else ''}"


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="webhook_once")]

    def __str__(self) -> str:
        return f"{self.kind} webhook {self.key}"


class Recording(PracticeOwned):
    """A voicemail: fetched from the carrier by the worker, kept encrypted in the data dir."""

    class State(models.TextChoices):
        PENDING = "pending"
        STORED = "stored"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call_sid = models.CharField(max_length=64, db_index=True)
    recording_sid = models.CharField(max_length=64, unique=True)
    source_url = EncryptedTextField()
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    file = models.CharField(max_length=200, blank=True, help_text="under the data dir")
    fetched_at = models.DateTimeField(null=True, blank=True)
    deleted_from_vendor_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"recording {self.recording_sid}"
