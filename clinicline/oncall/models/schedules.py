"""On-call schedules: who answers for the practice, when.

A ``Schedule`` has ``Layer``s by level (1 primary, 2 secondary or backup, more if a practice
wants them). A layer's ``Rotation``s hand the pager from one participant to the next at a
wall-clock time in the schedule's zone. ``Override``s add, remove or replace a member for a
window: cover for a sick day, a shift swap (a pair of replaces), a holiday.

Temporary schedules need nothing more: a rotation with an ``ends_on`` replaces the layer's
earlier rotations while it runs (a holiday fortnight), and overrides cover single windows.

Hand-offs are wall-clock times: a daily 08:00 hand-off is at 08:00 local on both sides of a
DST change, so the shift across the change lasts 23 or 25 hours (``oncall.schedules``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from clinicline.accounts.models import User
from clinicline.practices.models import PracticeOwned, validate_time_zone


def eight_am() -> dt.time:
    """The default handoff, as a function: a fixed time default is taken by Django's checks
    for a mistaken "now" (fields.W161) when they run within seconds of it."""
    return dt.time(8, 0)

class Schedule(PracticeOwned):
    """One on-call schedule of a practice ("After hours", "Weekend OB")."""

    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone],
                                 help_text="empty: the practice's time zone")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "name"],
                                               name="schedule_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def zone_name(self) -> str:
        return self.time_zone or self.practice.time_zone

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.zone_name)


PRIMARY, SECONDARY = 1, 2


class Layer(models.Model):
    """One level of a schedule: 1 is the primary, 2 the secondary (the backup)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1),
                                                         MaxValueValidator(9)])

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["schedule", "level"],
                                               name="one_layer_per_level")]

    def __str__(self) -> str:
        return f"{self.schedule} level {self.level}"


class Rotation(models.Model):
    """Participants take turns, in order, handing off at ``handoff_time`` (local wall time
    in the schedule's zone) from ``starts_on``; until the hand-off time on ``ends_on`` when
    there is one. While it runs, it replaces the layer's rotations that started before it."""

    class Kind(models.TextChoices):
        HOURLY = "hourly", "hourly"
        DAILY = "daily", "daily"
        WEEKLY = "weekly", "weekly"
        CUSTOM = "custom", "every so many hours"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="rotations")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WEEKLY)
    shift_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(24 * 28)],
        help_text="custom rotations only: the shift's length in wall-clock hours")
    handoff_time = models.TimeField(default=eight_am)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    participants: models.ManyToManyField[User, RotationMember] = models.ManyToManyField(
        User, through="RotationMember", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} rotation from {self.starts_on}"

    @property
    def step(self) -> dt.timedelta:
        """One shift, in wall-clock time."""
        if self.kind == self.Kind.HOURLY:
            return dt.timedelta(hours=1)
        if self.kind == self.Kind.DAILY:
            return dt.timedelta(days=1)
        if self.kind == self.Kind.WEEKLY:
            return dt.timedelta(days=7)
        return dt.timedelta(hours=self.shift_hours or 24)


class RotationMember(models.Model):
    """A participant's place in a rotation's order (0 takes the first shift)."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["rotation", "position"],
                                               name="one_member_per_position")]

    def __str__(self) -> str:
        return f"{self.user} at {self.position}"


class Override(models.Model):
    """A change to one level for a window. ``add``: the member is on call too. ``remove``:
    the member is not on call. ``replace``: the member takes the shifts of ``replaces`` (of
    whoever is on, when ``replaces`` is empty)."""

    class Kind(models.TextChoices):
        ADD = "add", "add"
        REMOVE = "remove", "remove"
        REPLACE = "replace", "replace"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    level = models.PositiveSmallIntegerField(default=PRIMARY,
                                             validators=[MinValueValidator(1),
                                                         MaxValueValidator(9)])
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPLACE)
    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    replaces = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]  # later overrides apply on top of earlier ones
        indexes = [models.Index(fields=["schedule", "ends_at"])]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="override_ends_after_it_starts")]

    def __str__(self) -> str:
        return f"{self.kind} {self.member} at level {self.level}"


class FeedToken(PracticeOwned):
    """A secret calendar-feed address for one schedule's shifts or one member's. Only the
    token's SHA-256 is stored; a new link revokes the old one."""

    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="feed_tokens")
    member = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(schedule__isnull=True) ^ models.Q(member__isnull=True),
            name="feed_of_a_schedule_or_a_member")]

    def __str__(self) -> str:
        return f"feed of {self.schedule or self.member}"
