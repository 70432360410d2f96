"""Messages: what a call, a voicemail or a text leaves for the practice, routed to a team
queue. Content is sealed by the vault; what stays in clear is what queues, routing,
escalation and retention need (priority, call type, team, times, status) and nothing about
the patient."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from clinicline.practices.models import PracticeOwned, Team
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField, SealedMember

ANY = "*"


class RoutingRule(PracticeOwned):
    """Which team gets a message: the first rule, by ``order``, whose call type, priority and
    office state match. A practice with no rules uses ``routing.DEFAULT_RULES``."""

    class When(models.TextChoices):
        OPEN = "open", "office open"
        CLOSED = "closed", "office closed"
        ANY = "any", "any time"

    call_type = models.CharField(max_length=40, default=ANY,
                                 help_text='a call type slug, or "*" for any')
    priority = models.CharField(max_length=20, default=ANY,
                                help_text='a priority, or "*" for any')
    when = models.CharField(max_length=6, choices=When.choices, default=When.ANY)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.call_type}/{self.priority}/{self.when} → {self.team_id}"

    def matches(self, call_type: str, priority: str, open: bool) -> bool:
        return (self.call_type in (ANY, call_type) and self.priority in (ANY, priority)
                and (self.when == self.When.ANY or (self.when == self.When.OPEN) == open))


class Source(models.TextChoices):
    AGENT = "agent", "agent console"
    IVR = "ivr", "phone menu"
    VOICEMAIL = "voicemail", "voicemail"
    SMS = "sms", "text message"


class MessageStatus(models.TextChoices):
    NEW = "new"
    CLAIMED = "claimed"
    CLOSED = "closed"


class Outcome(models.TextChoices):
    CALLED_BACK = "called-back", "called the patient back"
    LEFT_MESSAGE = "left-message", "left a callback message"
    SCHEDULED = "scheduled", "appointment booked"
    REFILL_SENT = "refill-sent", "refill sent to pharmacy"
    RESOLVED = "resolved", "resolved"
    REFERRED_911 = "referred-911", "referred to emergency services"
    NO_ACTION = "no-action", "no action needed"
    UNREACHABLE = "unreachable", "could not reach the caller"


class Recording(PracticeOwned):
    """A voicemail: fetched from the carrier by the gateway's worker job, kept sealed in the
    data dir (``inbox.recordings``), attached to its call's message."""

    class State(models.TextChoices):
        PENDING = "pending"
        STORED = "stored"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call_sid = models.CharField(max_length=64, db_index=True)
    recording_sid = models.CharField(max_length=64, unique=True)
    source_url = EncryptedTextField()
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    file = models.CharField(max_length=200, blank=True, help_text="under the data dir")
    fetched_at = models.DateTimeField(null=True, blank=True)
    deleted_from_vendor_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        # The table keeps the name it was made with (in the gateways app): it is part of
        # the associated data of every value sealed in it.
        db_table = "gateways_recording"

    def __str__(self) -> str:
        return f"recording {self.recording_sid}"


class Message(PracticeOwned):
    """One message in a team queue. ``content`` is the call type's fields as taken (only
    those), sealed as one record; ``triage`` is the decision's detail (rules that fired,
    red flags, the script said), sealed too, since rule names tell what is wrong."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    call_type = models.CharField(max_length=40)
    call_type_version = models.PositiveIntegerField()
    protocol_version = models.PositiveIntegerField()
    scripts_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="the practice's scripts in force when it was taken")
    language = models.CharField(max_length=5, default="en",
                                help_text="the language the caller was answered in")
    priority = models.CharField(max_length=10, db_index=True)
    clinical = models.BooleanField(
        default=False, help_text="for clinical roles only: a clinical call type, a priority "
        "above routine, or red flags in what the caller said")
    office_open = models.BooleanField(help_text="whether the office was open when taken")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="messages")
    status = models.CharField(max_length=8, choices=MessageStatus.choices,
                              default=MessageStatus.NEW)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="messages")

    content = EncryptedJSONField(default=dict)
    fields = SealedMember("content", default=dict)
    answers = SealedMember("content", default=dict)        # triage question id → yes/no
    transcript = SealedMember("content", default="")       # of a voicemail
    conversation = SealedMember("content", default=list)   # texts: [{at, from, body}]
    triage = EncryptedJSONField(default=dict)
    caller_index = models.CharField(max_length=64, blank=True, db_index=True,
                                    help_text="blind index of the caller's number")
    call_sid = models.CharField(max_length=64, blank=True, db_index=True)
    recording = models.ForeignKey(Recording, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    transcribed_at = models.DateTimeField(null=True, blank=True)
    transcribe_attempts = models.PositiveSmallIntegerField(default=0)
    transcribe_due_at = models.DateTimeField(null=True, blank=True,
                                             help_text="the next try after a failed one")

    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    retain_until = models.DateField(db_index=True,
                                    help_text="purged after this day (practice policy)")

    class Meta:
        indexes = [
            models.Index(fields=["practice", "team", "status", "-created_at"],
                         name="message_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.priority} {self.call_type} message {self.pk}"  # never content

    @property
    def rules(self) -> list[str]:
        return list(self.triage.get("rules", []))

    @property
    def because(self) -> list[str]:
        """Why each rule fired, quoting the caller (sealed with the rest of ``triage``)."""
        return [str(line) for line in self.triage.get("because", [])]

    @property
    def script(self) -> str:
        return str(self.triage.get("script", ""))

    @property
    def said(self) -> list[str]:
        """What the caller was told or sent, word for word, where the system said it (the
        IVR, a text's replies); an agent's words are the agent's, so not claimed here."""
        return [str(line) for line in self.triage.get("said", [])]

    @property
    def advise_911(self) -> bool:
        return bool(self.triage.get("advise_911"))


class MessageNote(PracticeOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note on {self.message_id}"


class ReadReceipt(PracticeOwned):
    """Who opened which message, when: one row per opening."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["opened_at", "pk"]
        indexes = [models.Index(fields=["message", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} opened {self.message_id}"


class QueueNotice(PracticeOwned):
    """How far a team's queue has been announced: the notifier tells members about messages
    created after ``notified_until`` and moves it, in the same transaction as the notices."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="+")
    notified_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"queue {self.team_id} announced until {self.notified_until:%Y-%m-%d %H:%M}"


class Notice(PracticeOwned):
    """An in-app notice: what the in-app transport delivers to a member's home page (the
    notifier's "3 new messages in Refills", a break-glass alert); PHI-free like every
    notification."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notices")
    delivery = models.OneToOneField("outbox.Delivery", on_delete=models.CASCADE,
                                    related_name="+")
    body = models.CharField(max_length=500, help_text="PHI-free, like every notification")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "user", "read_at", "created_at"])]

    def __str__(self) -> str:
        return f"notice for {self.user_id}"
