"""Escalation policies and the pages they open.

A ``Policy`` is an ordered list of ``PolicyStep``: notify someone, then wait. A ``Page`` is
one urgent message's escalation: it copies its policy when it opens (editing a policy
never changes a live page), and it is a row with a due time (``next_step_at``), so the
worker that runs its next step may crash, or another may take it, without losing it.
Every step, notification, acknowledgement, alarm and resolution is a ``PageEvent``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from clinicline.practices.models import PracticeOwned, Team
from clinicline.vault.fields import EncryptedTextField

MIN_WAIT_S, MAX_WAIT_S = 10, 24 * 3600


class Policy(PracticeOwned):
    name = models.CharField(max_length=80)
    repeat = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="how many times the whole chain runs before the final alarm")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class PolicyStep(models.Model):
    class Target(models.TextChoices):
        ON_CALL = "on-call", "whoever is on call (primary)"
        BACKUP = "backup", "the backup on call (secondary)"
        MEMBER = "member", "a named member"
        TEAM = "team", "every member of a team"
        MANAGER = "manager", "the practice manager"

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    target = models.CharField(max_length=8, choices=Target.choices)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    wait_s = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(MIN_WAIT_S), MaxValueValidator(MAX_WAIT_S)])

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["policy", "position"],
                                               name="one_step_per_position")]

    def __str__(self) -> str:
        return f"step {self.position} of {self.policy}"


class Page(PracticeOwned):
    class State(models.TextChoices):
        OPEN = "open"                   # escalating
        ACKNOWLEDGED = "acknowledged"   # someone owns it
        ALARMED = "alarmed"             # the chain ran out: the fallback and a banner
        RESOLVED = "resolved"           # done, with an outcome

    # Unguessable, like the message it pages for.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.OneToOneField("inbox.Message", on_delete=models.CASCADE,
                                   related_name="page")
    policy = models.JSONField(help_text="the policy as it was when the page opened")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    step = models.PositiveSmallIntegerField(default=0, help_text="the next step to run")
    round = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The secure link's token: sealed (later steps put it in their texts) and hashed (how
    # the link finds its page); and the short code a reply names when one number has
    # several pages open.
    link_token = EncryptedTextField()
    link_hash = models.CharField(max_length=64, unique=True)
    link_expires_at = models.DateTimeField()
    code = models.CharField(max_length=4)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    alarmed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    failed_over_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    outcome = EncryptedTextField(blank=True, help_text="what was done (may hold PHI)")

    class Meta:
        indexes = [models.Index(fields=["state", "next_step_at"])]

    def __str__(self) -> str:
        return f"page {self.pk} ({self.state})"

    @property
    def owned(self) -> bool:
        return self.state in (self.State.ACKNOWLEDGED, self.State.RESOLVED)


class PageEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened"
        NOTIFIED = "notified"           # a delivery queued for a member
        UNREACHABLE = "unreachable"     # a step that reached nobody, and why
        ACKNOWLEDGED = "acknowledged"
        PASSED = "passed"               # "E": on to the next step
        ALARMED = "alarmed"
        RESOLVED = "resolved"
        REMINDED = "reminded"           # acknowledged, not resolved after T minutes
        FAILED_OVER = "failed over"     # still not resolved after T2: the backup too
        MACHINE = "machine", "Answering machine"  # took a voice page: not an ack

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8, blank=True)
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    detail = models.CharField(max_length=200, blank=True, help_text="PHI-free")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.page_id}"

    @property
    def how(self) -> str:
        """The channel in words: "by text", "by call", "by link"."""
        return {"sms": "by text", "voice": "by call", "email": "by email",
                "in-app": "in the app", "link": "by link",
                "transfer": "by live transfer"}.get(self.channel, self.channel)
