import datetime as dt
import uuid
import zoneinfo
from typing import Self, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from clinicline.vault.fields import EncryptedTextField

e164 = RegexValidator(r"^\+[1-9]\d{6,14}$", "Enter the number in E.164 form, e.g. +16175550100.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone, e.g. America/New_York.")


class Practice(models.Model):
    """The tenant: every PHI-bearing row belongs to exactly one practice."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    callback_number = models.CharField(max_length=16, validators=[e164],
                                       help_text="the number patients are asked to call")
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="members are logged off after this long without activity",
    )
    front_desk_number = models.CharField(
        max_length=16, blank=True, validators=[e164],
        help_text="where the IVR forwards calls in office hours; empty: it takes messages")
    urgent_callback_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="what callers with an urgent problem are promised")
    page_clinical_after_hours = models.BooleanField(
        default=False, help_text="page the on-call provider for every clinical message taken "
        "after hours, not only urgent ones")
    page_remind_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="remind whoever acknowledged a page that has not been resolved after this")
    page_failover_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(10), MaxValueValidator(480)],
        help_text="then page the backup on call as well")
    transfer_urgent_calls = models.BooleanField(
        "Offer to connect urgent callers to the provider on call", default=False,
        help_text="after an urgent caller has left their number and message, the IVR tries "
        "the provider on call (who enters their voice PIN and presses 1 to take the call)")
    transfer_timeout_s = models.PositiveSmallIntegerField(
        "Ring the provider for (seconds)", default=25,
        validators=[MinValueValidator(10), MaxValueValidator(60)],
        help_text="then the caller is told a provider will call back")
    name_in_messages = models.BooleanField(
        "Say the practice's name in texts, calls and emails", default=True,
        help_text="turn off when the name reveals a specialty (fertility, psychiatry, "
        "oncology...): messages then name the provider's office instead")
    message_retention_days = models.PositiveIntegerField(
        default=7 * 365 + 2, validators=[MinValueValidator(30), MaxValueValidator(30 * 365)],
        help_text="how long messages are kept before they are purged")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


_M = TypeVar("_M", bound=models.Model)


class PracticeQuerySet(models.QuerySet[_M]):
    def for_practice(self, practice: Practice) -> Self:
        return self.filter(practice=practice)


class PracticeOwned(models.Model):
    """Base for every row that belongs to a practice; query through ``for_practice``."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")

    objects = PracticeQuerySet.as_manager()

    class Meta:
        abstract = True


class Work(models.TextChoices):
    """What a team's queue holds, which decides who works it (``inbox.visibility``)."""

    CLINICAL = "clinical", "clinical: nurses and providers"
    SCHEDULING = "scheduling", "scheduling: front desk, schedulers, nurses and providers"
    BILLING = "billing", "billing: billers and the practice manager"
    MANAGEMENT = "management", "the practice manager's"
    GENERAL = "general", "clinical, overseen by the practice manager"


# The queues every practice has (slug: name, work); routing makes any that is missing
# rather than lose a message.
DEFAULT_TEAMS: dict[str, tuple[str, str]] = {
    "clinical": ("Clinical", Work.CLINICAL), "refills": ("Refills", Work.CLINICAL),
    "scheduling": ("Scheduling", Work.SCHEDULING), "billing": ("Billing", Work.BILLING),
    "practice-manager": ("Practice manager", Work.MANAGEMENT)}


class Team(PracticeOwned):
    """A queue of work: clinical, refills, scheduling, billing, practice-manager, or one a
    practice adds. Its ``work`` says who works it; its slug is only its name in URLs."""

    slug = models.SlugField()
    name = models.CharField(max_length=100)
    work = models.CharField(max_length=12, choices=Work.choices, default=Work.GENERAL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "slug"], name="team_slug")]

    def __str__(self) -> str:
        return self.name


class Provider(PracticeOwned):
    """A clinician patients may be asked to call back ("Dr. Amara Osei")."""

    display_name = models.CharField(max_length=200)
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="provider_profiles")

    def __str__(self) -> str:
        return self.display_name


class Vendor(models.Model):
    """A business associate that may handle a practice's PHI (a telephony carrier, say)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    services = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class BusinessAssociateAgreement(PracticeOwned):
    """A signed BAA on record. A vendor transport runs only while one is current."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="agreements")
    signed_on = models.DateField()
    effective_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="empty: until terminated")
    document_ref = models.CharField(max_length=200,
                                    help_text="where the signed copy is kept")
    recorded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"BAA with {self.vendor} from {self.effective_on}"

    def current_on(self, day: dt.date) -> bool:
        return self.effective_on <= day and (self.expires_on is None or day <= self.expires_on)


def current_baa(practice: Practice, vendor_slug: str,
                day: dt.date | None = None) -> "BusinessAssociateAgreement | None":
    """The agreement that covers this vendor for this practice today (or on ``day``)."""
    day = day or dt.datetime.now(practice.tz).date()
    for baa in BusinessAssociateAgreement.objects.filter(
            practice=practice, vendor__slug=vendor_slug).order_by("-effective_on"):
        if baa.current_on(day):
            return baa
    return None


WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
            (5, "Saturday"), (6, "Sunday")]


class OfficeHours(PracticeOwned):
    """One open interval on a weekday, in the practice's local time (a day may have several,
    e.g. around a lunch break). A practice with none has the defaults in ``hours``."""

    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS,
                                               validators=[MaxValueValidator(6)])
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")),
                                   name="office_hours_closes_after_opens"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6),
                                   name="office_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(PracticeOwned):
    """A local date on which the office is closed all day."""

    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["practice", "date"],
                                               name="holiday_date")]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class GatewayAccount(PracticeOwned):
    """A practice's own Twilio account (bring your own): the number patients dial, which
    finds the practice, and the credentials the gateway uses. In test mode outbound
    messages go to the phone simulator instead of the carrier; inbound webhooks are checked
    the same. Here, beside the practice, because the domain asks which practice answers a
    number; only the gateway talks to the carrier."""

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
        # The table keeps the name it was made with (in the gateways app): it is part of
        # the associated data of the sealed auth token.
        db_table = "gateways_gatewayaccount"
        constraints = [
            models.UniqueConstraint(fields=["practice"], name="one_gateway_per_practice"),
        ]

    def __str__(self) -> str:
        return f"gateway {self.phone_number}{' (test mode)' if self.test_mode else ''}"
