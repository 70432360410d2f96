"""The outbox: every message clinicline sends is a Delivery row, written before any vendor
is called and updated after, so a crash in between is visible and retried, never silent."""

import uuid

from django.db import models

from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedTextField


class Channel(models.TextChoices):
    SMS = "sms", "text message"
    VOICE = "voice", "voice call"
    EMAIL = "email", "email"
    IN_APP = "in-app", "in-app notice"


class Status(models.TextChoices):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"            # the vendor took it
    DELIVERED = "delivered"  # the vendor says it arrived
    FAILED = "failed"        # permanently; ``error`` says why


class Delivery(PracticeOwned):
    # Unguessable: vendor status callbacks find the row by it.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=32, help_text="notification, page, reminder, …")
    # A phone number or address links a person to the practice: sealed like other PHI.
    to = EncryptedTextField(help_text="E.164 number, email address, or user id (in-app)")
    body = EncryptedTextField(help_text="what is sent: PHI-free by construction")
    patient = models.ForeignKey("patients.Patient", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                help_text="whose name the final screen must not find")
    idempotency_key = models.CharField(max_length=128)
    # A call that asks and listens: where its first request goes, as the query of the
    # gateway's page webhook ("page=<id>&member=<id>"): ids only, PHI-free. Empty: a call
    # that only speaks ``body``.
    call_step = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                  help_text="next attempt; empty when no attempt is due")
    claimed_at = models.DateTimeField(null=True, blank=True)
    transport = models.CharField(max_length=16, blank=True)
    vendor_id = models.CharField(max_length=64, blank=True, db_index=True)
    error = models.CharField(max_length=200, blank=True, help_text="PHI-free")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "idempotency_key"],
                                    name="delivery_idempotency"),
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.pk} ({self.status})"
