"""Sending decisions: one row for every outbound attempt to a patient, and the practice's
sending policy (frequency caps and a narrower window than 08:00-21:00).

A decision row says what was decided and why, which consent entry decided it and which
template version was sent, and never anything a patient could be recognised by: no text,
no number. What a deferred attempt needs to be decided again later (the typed slots'
values) is kept with it: a provider, a reason from the closed list, an appointment time
and, sealed, a secure link's token; a results-ready message's row also names its results
link.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from clinicline.outreach.kinds import CHANNEL_CHOICES, PURPOSE_CHOICES, Reason
from clinicline.patients.models import QUIET_EARLIEST, QUIET_LATEST
from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedTextField


# Defaults as functions: a fixed time is taken by Django's checks for a mistaken "now"
# (fields.W161) when the checks happen to run within seconds of it, as a deploy check at
# 21:00 UTC did.
def window_opens() -> dt.time:
    return QUIET_EARLIEST


def window_closes() -> dt.time:
    return QUIET_LATEST


DEFAULT_PER_DAY, DEFAULT_PER_WEEK = 1, 3


class Outcome(models.TextChoices):
    SENT = "sent"
    WITHHELD = "withheld"
    DEFERRED = "deferred"  # quiet hours: decided again at ``due_at``


class Why(models.TextChoices):
    """Why an attempt was withheld or deferred (empty when sent)."""

    NO_CONSENT = "no-consent", "no consent for this channel and purpose"
    OPTED_OUT = "opted-out", "the patient opted out"
    QUIET_HOURS = "quiet-hours", "quiet hours in the patient's time zone"
    FREQUENCY_CAP = "frequency-cap", "the practice's daily or weekly limit"
    PHI = "phi", "the text would carry PHI"
    UNVERIFIED = "unverified-contact", "no verified contact for this channel"
    INVALID_NUMBER = "invalid-number", "the number cannot take this channel"
    # A deferred reminder whose appointment changed before it was due again.
    CONFIRMED = "confirmed", "the appointment is confirmed"
    CANCELLED = "cancelled", "the appointment was cancelled"
    MOVED = "moved", "the appointment moved"
    STARTED = "started", "the appointment has begun"


class SendingPolicy(PracticeOwned):
    """A practice's limits: caps on exempt-path messages, and the hours it sends in (inside
    08:00-21:00, the patient's local time). No row: the defaults."""

    per_day = models.PositiveSmallIntegerField(
        "Exempt messages a day", default=DEFAULT_PER_DAY,
        validators=[MinValueValidator(1), MaxValueValidator(DEFAULT_PER_DAY)],
        help_text="per patient, in any 24 hours (the FCC allows at most 1)")
    per_week = models.PositiveSmallIntegerField(
        "Exempt messages a week", default=DEFAULT_PER_WEEK,
        validators=[MinValueValidator(1), MaxValueValidator(DEFAULT_PER_WEEK)],
        help_text="per patient, in any 7 days (the FCC allows at most 3)")
    window_start = models.TimeField(default=window_opens)
    window_end = models.TimeField(default=window_closes)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice"], name="one_sending_policy"),
            models.CheckConstraint(condition=models.Q(window_start__gte=QUIET_EARLIEST)
                                   & models.Q(window_end__lte=QUIET_LATEST)
                                   & models.Q(window_end__gt=models.F("window_start")),
                                   name="sending_policy_window"),
        ]

    def __str__(self) -> str:
        return f"sending policy {self.pk}"


class SendDecision(PracticeOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the caps index, whose first column it is (a plain index of its own would
    # be a second copy to write with every decision).
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE,
                                related_name="send_decisions", db_index=False)
    purpose = models.CharField(max_length=24, choices=PURPOSE_CHOICES)
    channel = models.CharField(max_length=12, choices=CHANNEL_CHOICES)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=24, choices=Why.choices, blank=True)
    exempt = models.BooleanField(default=False, help_text="sent under the healthcare "
                                 "exemption: counts toward the caps")
    consent_entry = models.ForeignKey("patients.ConsentEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    template_version = models.ForeignKey("outreach.TemplateVersion", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    template_number = models.PositiveIntegerField(null=True, blank=True,
                                                  help_text="0: the shipped words")
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    reminder = models.ForeignKey("outreach.Reminder", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="decisions")
    # A results-ready message's link (``outreach.results``): its token, when the text carries
    # it, is ``secure_token``; a call is placed about it.
    results_link = models.ForeignKey("outreach.ResultsLink", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="decisions")
    # The caller's key (e.g. "reminder-<uuid>"): the outbox's key for the text, so a
    # decision made twice never sends twice. Made by code, never from what a person typed.
    idempotency_key = models.CharField(max_length=100)
    # The typed slots' values, for deciding a deferred attempt again.
    provider = models.ForeignKey("practices.Provider", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    slot_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    appointment_at = models.DateTimeField(null=True, blank=True)
    secure_token = EncryptedTextField(blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="deferred: when to decide "
                                  "again (08:00 patient time)")
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A deferred attempt, once decided again (by a new row, which names this one).
    settled_at = models.DateTimeField(null=True, blank=True)
    deferred_from = models.ForeignKey("self", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")

    class Meta:
        # The caps read a patient's exempt messages sent in the last week. The deferred
        # attempts still to decide again, by due time, are a few of all decisions: their
        # index holds them alone (written for no other decision), and a query of sent ones
        # cannot take it instead of the caps index (SQLite's planner did, for a batch's
        # caps, and read every decision ever sent).
        indexes = [models.Index(fields=["patient", "exempt", "outcome", "decided_at"],
                                name="decision_caps"),
                   models.Index(fields=["due_at", "id"], name="decision_deferred",
                                condition=models.Q(outcome=Outcome.DEFERRED,
                                                  settled_at__isnull=True))]

    def __str__(self) -> str:
        return f"send decision {self.pk} ({self.outcome} {self.reason})"
