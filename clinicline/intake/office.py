"""The office as a caller meets it (open, after hours, a holiday), and the practice's words
for it: the greeting and the read-back's promise, in the caller's language. The console
and the IVR both say these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import dateformat, timezone, translation

from clinicline.inbox.models import Message
from clinicline.intake.scripts import Scripts
from clinicline.oncall import pages
from clinicline.practices import hours
from clinicline.practices.models import Holiday, Practice
from clinicline.triage.spec import Priority

# How "the office opens ..." reads, in each language (Django's own month and day names).
WHEN = {"en": "l, F j \\a\\t g:i A", "es": "l j \\d\\e F, \\a \\l\\a\\s G:i"}


@dataclass(frozen=True)
class Office:
    """The office as the caller meets it now, in the practice's zone."""

    open: bool
    next_open: dt.datetime | None
    holiday: str
    zone: str

    @classmethod
    def now(cls, practice: Practice) -> Office:
        at = timezone.now()
        today = at.astimezone(practice.tz).date()
        holiday = Holiday.objects.for_practice(practice).filter(date=today).first()
        return cls(hours.is_open(practice, at), hours.next_open(practice, at),
                   holiday.name if holiday else "", practice.time_zone)

    def opens(self, language: str = "en") -> str:
        if self.next_open is None:
            return ""
        with translation.override(language):
            return dateformat.format(self.next_open, WHEN.get(language, WHEN["en"]))

    def greeting(self, practice_name: str) -> tuple[str, dict[str, str]]:
        """The greeting's script and slots: open, a holiday, or after hours."""
        if self.open:
            return "greeting_open", {"practice": practice_name}
        if self.holiday:
            return "greeting_holiday", {"practice": practice_name, "holiday": self.holiday}
        return "greeting_after_hours", {"practice": practice_name}


def paged_provider(message: Message) -> str | None:
    """Who the message's page went to first ("" if nobody yet); None when it has no page."""
    page = pages.page_of(message)
    if page is None:
        return None
    first = next((e.member for e in pages.timeline(page) if e.member is not None), None)
    return first.get_full_name() if first is not None else ""


def promise(words: Scripts, practice: Practice, message: Message,
            office: Office) -> tuple[str, dict[str, object]]:
    """The read-back's script and slots: who calls the caller back, and when. The on-call
    provider is promised only when a page was opened for the message."""
    if message.priority in (Priority.URGENT, Priority.EMERGENCY):
        provider = paged_provider(message)
        if provider is None:
            return "read_back_urgent", {}
        return "read_back_paged", {"callback_minutes": practice.urgent_callback_minutes,
                                   "provider": provider or practice.name}
    if office.open:
        return "read_back_open", {}
    if office.next_open:
        return "read_back_next_opening", {"next_opening": office.opens(words.language)}
    return "read_back_reopens", {}
