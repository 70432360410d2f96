import datetime as dt
import uuid
from typing import Any

from django.db import models

from clinicline.patients import normalize
from clinicline.practices.models import PracticeOwned, PracticeQuerySet, validate_time_zone
from clinicline.vault.blind import blind_index
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField, SealedMember

# Blind-index kinds; also the names used for lookups.
BY_NAME_DOB = "name+dob"
BY_MRN = "mrn"
BY_PHONE = "phone"
BY_EMAIL = "email"


class Patient(PracticeOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Name, date of birth, MRN and address are read together, so they are sealed together:
    # one decryption a row.
    identity = EncryptedJSONField[dict[str, Any]](default=dict, editable=False)
    given_name = SealedMember[str]("identity")
    family_name = SealedMember[str]("identity")
    date_of_birth = SealedMember[dt.date | None]("identity", date=True, default=None)
    mrn = SealedMember[str]("identity")
    address = SealedMember[dict[str, str] | None]("identity", default=None)  # street, city…
    restricted = models.BooleanField(
        default=False, help_text="only clinical roles open it without break-glass")
    name_dob_index = models.CharField(max_length=64, db_index=True, editable=False)
    mrn_index = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    PHI_FIELDS = ("given_name", "family_name", "date_of_birth", "mrn", "address")

    def __str__(self) -> str:
        return f"patient {self.pk}"  # never the name: __str__ ends up in logs

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def refresh_indexes(self) -> None:
        if self.date_of_birth is None:
            raise ValueError("a patient is found by name and date of birth: give both")
        key = normalize.name_dob_key(self.given_name, self.family_name, self.date_of_birth)
        self.name_dob_index = blind_index(self.practice_id, BY_NAME_DOB, key)
        self.mrn_index = (blind_index(self.practice_id, BY_MRN, normalize.mrn_key(self.mrn))
                          if self.mrn else "")


class ContactPoint(PracticeOwned):
    class Kind(models.TextChoices):
        PHONE = "phone"
        EMAIL = "email"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(max_length=16, blank=True, help_text="mobile, home, work…")
    value = EncryptedTextField()
    value_index = models.CharField(max_length=64, db_index=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} contact {self.pk}"

    @property
    def display_value(self) -> str:
        """A phone number as people write it ("(617) 555-0142"), an address as it is."""
        return normalize.phone_display(self.value) if self.kind == self.Kind.PHONE else self.value

    def refresh_indexes(self) -> None:
        kind, key = ((BY_PHONE, normalize.phone_e164(self.value)) if self.kind == self.Kind.PHONE
                     else (BY_EMAIL, normalize.email_key(self.value)))
        self.value_index = blind_index(self.practice_id, kind, key)


# --- consent ledger and contact preferences ------------------------------------------------

class Language(models.TextChoices):
    """The languages the practice's words are approved in."""

    EN = "en", "English"
    ES = "es", "Spanish"


class Channel(models.TextChoices):
    SMS = "sms", "text message"
    VOICE = "voice", "phone call"
    VOICEMAIL = "voicemail", "voicemail"
    EMAIL = "email", "email"
    PORTAL = "portal", "secure portal"


class Purpose(models.TextChoices):
    APPOINTMENT_REMINDERS = "appointment-reminders", "appointment reminders"
    RESULTS_READY = "results-ready", "results ready"
    BILLING = "billing", "billing"
    CARE_TEAM = "care-team", "care-team messages"
    # Only ever as the purpose of an entry, never asked about: an SMS STOP revokes texts for
    # every purpose at once, and a later grant for one purpose re-opens only that one.
    ALL = "all", "every purpose"


class Source(models.TextChoices):
    PAPER_FORM = "paper-form", "paper form"
    REGISTRATION = "registration", "registration"
    PORTAL = "portal", "patient portal"
    VERBAL = "verbal", "verbal"
    SMS_KEYWORD = "sms-keyword", "SMS keyword"


# Sources a member of staff writes down, who must be named; the others the patient did
# themselves (a portal form, a reply to a text).
STAFF_SOURCES = frozenset({Source.PAPER_FORM, Source.REGISTRATION, Source.VERBAL})


class AppendOnly(Exception):
    """The ledger is evidence: a correction is a new entry, never an edit."""


class ConsentEntryQuerySet(PracticeQuerySet["ConsentEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("consent entries are never changed: record a new entry")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("consent entries are never deleted")


class ConsentEntry(PracticeOwned):
    """One decision a patient made about one channel and purpose, as it was recorded.

    Current consent is never stored: ``consent.state`` derives it from these rows at the
    moment of sending. An entry with a ``number_index`` belongs to that phone number (a STOP
    texted from it), whoever's number it is now or later; ``patient`` is empty when the
    number was nobody's on file.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="consent_entries")
    contact = models.ForeignKey(ContactPoint, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    number_index = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="blind index of the phone number the entry is bound to (an SMS opt-out)")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    granted = models.BooleanField(help_text="granted, or revoked")
    # A "non-secure request": the patient asked for details on this channel anyway,
    # knowing it is not secure. Only a grant carries it; a plain grant allows messages that
    # say nothing but "please call us".
    detail_allowed = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    evidence = EncryptedTextField(blank=True)
    at = models.DateTimeField(help_text="when the decision took effect")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentEntryQuerySet.as_manager()  # type: ignore[misc]  # a narrower queryset

    class Meta:
        verbose_name_plural = "consent entries"
        indexes = [
            # number_index in the key: the patient layer asks for number_index = "", which
            # alone matches nearly every row, and a planner must not take the other index.
            models.Index(fields=["patient", "number_index", "channel", "at"],
                         name="consent_patient_at"),
            # Only the entries of a number (SMS keywords): a planner can then never take it
            # for the patient layer's number_index = '', which matches nearly every row. A
            # number's blind index is the practice's own HMAC, so it leads.
            models.Index(fields=["number_index", "channel", "at"], name="consent_number_at",
                         condition=~models.Q(number_index="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(granted=True) | models.Q(detail_allowed=False),
                name="consent_detail_only_on_grant"),
            models.CheckConstraint(
                condition=~models.Q(patient__isnull=True, number_index=""),
                name="consent_bound_to_patient_or_number"),
        ]

    def __str__(self) -> str:
        return f"consent entry {self.pk}"

    @property
    def scope(self) -> str:
        return "non-secure request" if self.detail_allowed else "consent"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("consent entries are never changed: record a new entry")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("consent entries are never deleted")


# What a patient may narrow, never widen: outreach sends only inside 08:00-21:00 local time.
QUIET_EARLIEST = dt.time(8, 0)
QUIET_LATEST = dt.time(21, 0)


class ContactPreference(PracticeOwned):
    """How a patient likes to be reached: one row a patient, edited in place (unlike
    consent, a preference is not evidence; each change is audited)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE,
                                   related_name="contact_preference")
    preferred_channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    only_preferred = models.BooleanField(
        default=False, help_text='use no other channel ("email only")')
    do_not_leave_voicemail = models.BooleanField(default=False)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN,
                                help_text="the language messages and calls are in")
    window_start = models.TimeField(null=True, blank=True,
                                    help_text="earliest time to contact, 08:00 or later")
    window_end = models.TimeField(null=True, blank=True,
                                  help_text="latest time to contact, 21:00 or earlier")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone],
                                 help_text="empty: the practice's time zone")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_start__gte=QUIET_EARLIEST),
                name="preference_window_start"),
            models.CheckConstraint(
                condition=models.Q(window_end__isnull=True)
                | models.Q(window_end__lte=QUIET_LATEST),
                name="preference_window_end"),
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True) | models.Q(window_end__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="preference_window_order"),
        ]

    def __str__(self) -> str:
        return f"contact preference {self.pk}"
