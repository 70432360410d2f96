"""A call to a patient (a reminder, results, a care-team or billing message), the steps it
went through, and the secure link a results-ready message carries.

Everything here is PHI-free by construction except what the foreign keys point at: a call
row names its patient by key, and its steps are codes and sentences of ours ("a machine
answered", "no voicemail left: no voicemail consent"), never what was said to whom.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models

from clinicline.practices.models import PracticeOwned


class CallOutcome(models.TextChoices):
    PLACED = "placed"                            # queued in the outbox, not answered yet
    SPOKEN = "spoken"                            # a person heard it, pressed nothing (yet)
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULE = "reschedule-requested", "reschedule requested"
    VOICEMAIL = "voicemail-left", "voicemail left"
    NO_VOICEMAIL = "no-voicemail", "no voicemail left"


class OutreachCall(PracticeOwned):
    """One call about a reminder, results, or a care-team or billing message. Its id is
    what the call's steps carry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=32, help_text="an outreach purpose")
    language = models.CharField(max_length=4, default="en")
    reminder = models.ForeignKey("outreach.Reminder", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    results_link = models.ForeignKey("outreach.ResultsLink", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey("practices.Provider", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 help_text="whose office a call about neither a reminder "
                                           "nor results names")
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=24, choices=CallOutcome.choices,
                               default=CallOutcome.PLACED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"outreach call {self.pk} ({self.outcome})"


class OutreachCallStep(models.Model):
    """One step of a call, as it happened: a code and a sentence of ours, no PHI."""

    call = models.ForeignKey(OutreachCall, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    step = models.CharField(max_length=24)
    detail = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.step} of {self.call_id}"


class ResultsLink(PracticeOwned):
    """"Your results are ready": a link that asks for the date of birth before it shows
    anything, and then shows only how to get them (clinicline holds no results). Found by
    the hash of its token; the token itself is only in the message that carried it."""

    LIFETIME = dt.timedelta(days=14)
    MAX_ATTEMPTS = 5

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey("practices.Provider", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 help_text="whose office a voicemail names")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=12)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0, help_text="wrong dates of birth")
    locked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"results link {self.pk}"
