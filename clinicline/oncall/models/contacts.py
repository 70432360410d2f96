"""How a member is reached: their contact methods, each usable once verified, and their own
notification rules (which method, after how long)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clinicline.accounts.models import User


class ContactMethod(models.Model):
    """A way to reach one member. SMS and voice numbers are usable only once verified
    with a code sent to them; in-app needs no address and is always usable."""

    class Kind(models.TextChoices):
        SMS = "sms", "text message"
        VOICE = "voice", "voice call"
        EMAIL = "email", "email"
        IN_APP = "in-app", "in-app notice"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    address = models.CharField(max_length=254, blank=True,
                               help_text="E.164 number or email address; empty for in-app")
    verified_at = models.DateTimeField(null=True, blank=True)
    # The current verification code, hashed; its expiry; how many were sent in the window.
    code_hash = models.CharField(max_length=128, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    codes_window_started_at = models.DateTimeField(null=True, blank=True)
    wrong_codes = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "address"],
                                               name="one_method_per_address")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"

    @property
    def usable(self) -> bool:
        return self.kind == self.Kind.IN_APP or self.verified_at is not None


class NotificationRule(models.Model):
    """"Text me at once, call me after 60 s": one method, after a delay from the moment a
    page first reaches this member. A member without rules gets every usable method at
    once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_rules")
    method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_s = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delay_s", "pk"]

    def __str__(self) -> str:
        return f"{self.method} after {self.delay_s}s"

    @property
    def when(self) -> str:
        return delay_label(self.delay_s)


class VoicePin(models.Model):
    """The digits a member enters on a voice page before it says anything about the
    message. Only a salted hash is kept (Django's password hasher), never the digits; five
    wrong tries in a row lock it for a while, so a stranger answering the member's phone
    cannot guess it during one night."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="voice_pin")
    pin_hash = models.CharField(max_length=128)
    set_at = models.DateTimeField(default=timezone.now)
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"voice PIN of {self.user}"  # never the hash


def delay_label(delay_s: int) -> str:
    """"at once", "after 45 s", "after 3 min": as a member says it."""
    if not delay_s:
        return "at once"
    if delay_s % 60:
        return f"after {delay_s} s"
    return f"after {delay_s // 60} min"
