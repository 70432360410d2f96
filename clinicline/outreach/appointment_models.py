"""Appointments, the practice's reminder offsets, the reminders made for each appointment,
an upload waiting for its preview to be confirmed, and a reminder run.

A reminder is background work as a row (DESIGN, "Architecture"): ``send_at`` is its timer,
``claimed_at`` its lease, and its ``status`` and ``reason`` are the decision recorded once
it is made, beside the outbox delivery it queued, if any.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedJSONField

# 7 days and 2 days before, unless the practice sets its own (in hours).
DEFAULT_OFFSETS_H = [7 * 24, 2 * 24]


def default_offsets() -> list[int]:
    return list(DEFAULT_OFFSETS_H)


class ReminderPolicy(PracticeOwned):
    """How long before an appointment its reminders go out. One per practice; a practice
    without one reminds 7 and 2 days before."""

    offsets_h = models.JSONField(default=default_offsets,
                                 help_text="hours before the appointment, largest first")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice"], name="reminder_policy_one")]

    def __str__(self) -> str:
        return f"reminder policy of practice {self.practice_id}"

    @property
    def offsets(self) -> list[dt.timedelta]:
        return [dt.timedelta(hours=h) for h in self.offsets_h]


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULE_REQUESTED = "reschedule-requested", "reschedule requested"


class Appointment(PracticeOwned):
    # There is no reason-for-visit field, on purpose: a reminder needs who, when and where,
    # and a reason ("colonoscopy prep", "HIV follow-up") is the one detail that would make
    # a reminder, a lock-screen preview or a wrong-number text a disclosure. What is never
    # stored can never leak.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE,
                                related_name="appointments")
    provider = models.ForeignKey("practices.Provider", on_delete=models.PROTECT,
                                 related_name="appointments")
    starts_at = models.DateTimeField(db_index=True, help_text="UTC; shown in the practice's zone")
    location = models.CharField(max_length=100, blank=True,
                                help_text="the practice's name for the place: 'Main St office'")
    status = models.CharField(max_length=24, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    # The practice's own id for the appointment (its scheduling system's): a re-import of
    # the same file finds and updates the same rows instead of doubling them.
    external_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "external_id"],
                                               name="appointment_external_id")]

    def __str__(self) -> str:
        return f"appointment {self.pk}"  # never the patient: __str__ ends up in logs


class ReminderStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"                            # queued in the outbox
    WITHHELD = "withheld"                    # ``reason`` says why
    DEFERRED = "deferred"                    # quiet hours: its decision is due again later
    SKIPPED_CONFIRMED = "skipped-confirmed", "skipped: confirmed"
    SKIPPED_LATE = "skipped-late", "skipped: too late"
    CANCELLED = "cancelled"                  # the appointment moved or was cancelled


class Reminder(PracticeOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE,
                                    related_name="reminders")
    offset_h = models.PositiveIntegerField(help_text="hours before the appointment")
    # The appointment time this reminder was made for: a moved appointment's old
    # reminders are recognised by it, and cancelled.
    for_starts_at = models.DateTimeField()
    send_at = models.DateTimeField()  # indexed after the status or the run (Meta)
    status = models.CharField(max_length=20, choices=ReminderStatus.choices,
                              default=ReminderStatus.PENDING)
    reason = models.CharField(max_length=32, blank=True, help_text="PHI-free: a code")
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey("outreach.ReminderRun", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="reminders",
                            db_index=False)  # the run's index (Meta) starts with it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One live reminder per appointment and offset; decided ones stay as the record.
            models.UniqueConstraint(fields=["appointment", "offset_h"],
                                    condition=Q(status="pending"), name="reminder_one_pending"),
        ]
        # The due ones in the job's order (send time, then id: reminders made together
        # share a send time), read from the index without sorting them.
        indexes = [models.Index(fields=["status", "send_at", "id"]),
                   models.Index(fields=["run", "send_at", "id"])]

    def __str__(self) -> str:
        return f"reminder {self.pk} ({self.status})"


class AppointmentUpload(PracticeOwned):
    """A parsed CSV between its preview and its confirmation. The rows hold patients'
    names and dates of birth, so they are sealed; the preview's URL holds only this row's
    id. Deleted when confirmed, and worthless after ``EXPIRES``."""

    EXPIRES = dt.timedelta(hours=1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    rows = EncryptedJSONField[list[dict[str, Any]]](default=list)
    problems = EncryptedJSONField[list[dict[str, Any]]](default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"appointment upload {self.pk}"


class RunState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class ReminderRun(PracticeOwned):
    """"Send due reminders now", over however many there are: the reminders due when it
    started are stamped with it, and the worker takes them in batches in (send_at, id)
    order. The cursor is the last one taken: a worker that stops mid-run leaves it, and the
    next one goes on from there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    started_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    as_of = models.DateTimeField(help_text="reminders due by this time belong to the run")
    state = models.CharField(max_length=8, choices=RunState.choices, default=RunState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    cursor_send_at = models.DateTimeField(null=True, blank=True)
    cursor_id = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "claimed_at"])]

    def __str__(self) -> str:
        return f"reminder run {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)
