import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.practices.models import Practice


class User(AbstractUser):
    """A member of staff (never a patient). Answering-service agents may serve many practices."""

    phone = models.CharField(max_length=16, blank=True, help_text="for on-call pages (E.164)")
    # Each session remembers the epoch it began in; raising it ends every one of them on
    # its next request ("sign out everywhere"), whatever the session backend.
    session_epoch = models.PositiveIntegerField(default=0)

    def membership(self, practice: Practice) -> "Membership | None":
        return self.memberships.filter(practice=practice).first()


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="one_role_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} at {self.practice}"


class BreakGlassGrant(models.Model):
    """Time-limited access to one record the member could not normally open."""

    class Reason(models.TextChoices):
        EMERGENCY = "emergency", "emergency care"
        URGENT_CALL = "urgent-call", "urgent call in progress"
        CONTINUITY = "continuity", "continuity of care"
        OTHER = "other", "other (explain)"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="break_glass_grants")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    explanation = models.TextField(help_text="why, without patient identifiers")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]

    def __str__(self) -> str:
        return f"break-glass by {self.user} until {self.expires_at:%Y-%m-%d %H:%M}"

    @classmethod
    def default_expiry(cls) -> dt.datetime:
        return timezone.now() + dt.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
