"""Call types, versioned like triage protocols: never edited in place; an upload adds the
next version, the newest is in force, and every message records the version it was taken
under, so older versions are kept."""

from __future__ import annotations

import functools
import json
import uuid

from django.db import models
from django.utils import timezone

from clinicline.intake.scripts import Scripts
from clinicline.intake.spec import CallType, parse_document
from clinicline.practices.models import PracticeOwned
from clinicline.practices.versioned import VersionedDocument
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField, SealedMember


class CallTypeSet(VersionedDocument):
    def __str__(self) -> str:
        return f"call types v{self.version}"

    @property
    def call_types(self) -> tuple[CallType, ...]:
        return _parsed(json.dumps(self.document, sort_keys=True), self.version)

    def get(self, slug: str) -> CallType | None:
        return next((t for t in self.call_types if t.slug == slug), None)

    @property
    def general(self) -> CallType:
        """Texts, and voicemails left without a choice (the document marks exactly one)."""
        return next(t for t in self.call_types if t.general)

    @property
    def urgent(self) -> CallType:
        """The IVR's urgent line: the first clinical call type (there is always one)."""
        return next(t for t in self.call_types if t.clinical)

    def get_or_general(self, slug: str) -> CallType:
        return self.get(slug) or self.general


class ScriptSet(VersionedDocument):
    """The practice's words (``intake.scripts``): greetings, the emergency line, the IVR's
    prompts, read-backs and the closing, in each of its languages."""

    def __str__(self) -> str:
        return f"scripts v{self.version}"

    def scripts(self, language: str = "en") -> Scripts:
        return Scripts(self.document, self.version).in_language(language)


@functools.lru_cache(maxsize=64)
def _parsed(document: str, version: int) -> tuple[CallType, ...]:
    # Keyed by content, not id: a version's content never changes, so no entry goes stale.
    return tuple(parse_document(json.loads(document), version))


class Call(PracticeOwned):
    """A call the IVR answered: its id at the carrier, and who called (sealed). Its row is
    what a call's steps lock, so the record action and the recording callback, which can
    arrive together, open one message between them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call_sid = models.CharField(max_length=64, unique=True)
    caller = EncryptedTextField(blank=True, help_text="the number calling, E.164")
    started_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"call {self.call_sid}"


class InboundText(PracticeOwned):
    """A text to the practice number, kept by the sms webhook in its own transaction and
    made a message by the worker (``intake.texts``)."""

    class State(models.TextChoices):
        WAITING = "waiting"
        DONE = "done"
        FAILED = "failed"     # gave up after MAX_TRIES; the text stays here for a person

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message_sid = models.CharField(max_length=64, unique=True)
    content = EncryptedJSONField(default=dict, help_text="sender and body")
    sender = SealedMember("content")
    body = SealedMember("content")
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=8, choices=State.choices, default=State.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"text {self.message_sid} ({self.state})"
