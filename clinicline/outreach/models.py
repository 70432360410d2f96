"""Outreach templates, versioned: a practice's words for one purpose, channel and language.

A ``Template`` is the slot (practice × purpose × channel × language); its
``TemplateVersion`` rows are the words. Editing adds a draft; only an approved version is
ever sent, and the newest approved one is live. A template with no approved version of
the practice's own sends the shipped default (``defaults``), which counts as approved.
Template words hold no PHI (slots are typed, never free text), so they are stored plainly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from clinicline.outreach.appointment_models import (  # noqa: F401 (the app's models)
    Appointment,
    AppointmentStatus,
    AppointmentUpload,
    Reminder,
    ReminderPolicy,
    ReminderRun,
    ReminderStatus,
    RunState,
)
from clinicline.outreach.decision_models import SendDecision, SendingPolicy  # noqa: F401
from clinicline.outreach.kinds import CHANNEL_CHOICES, PURPOSE_CHOICES, Language
from clinicline.outreach.voice_models import OutreachCall, OutreachCallStep, ResultsLink  # noqa: F401
from clinicline.practices.models import PracticeOwned

MAX_BODY = 1600  # ten GSM-7 segments; an email's few lines; a minute of speech


class Template(PracticeOwned):
    purpose = models.CharField(max_length=24, choices=PURPOSE_CHOICES)
    channel = models.CharField(max_length=12, choices=CHANNEL_CHOICES)
    language = models.CharField(max_length=2, choices=Language.choices)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["practice", "purpose", "channel", "language"], name="one_template_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} by {self.get_channel_display()} ({self.language})"


class TemplateVersion(models.Model):
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(max_length=MAX_BODY)
    # An SMS reminder meant to go under the FCC's healthcare exemption (checked at approval).
    exempt = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    # What the checks said when the version was saved, and again when it was approved:
    # {"problems": [...], "notes": [...], "encoding": ..., "segments": ..., "units": ...}.
    checks = models.JSONField(default=dict)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"],
                                               name="one_number_per_template")]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    @property
    def approved(self) -> bool:
        return self.approved_at is not None
