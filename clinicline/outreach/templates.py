"""Reading, checking and rendering outreach templates.

A template's words may hold only the typed slots in ``SLOTS``. Their values are never free
text: a provider from the practice's own roster, a ``Reason`` from the closed list, a
datetime, a secure link the site made, the practice's own name and callback number. So no
patient detail can reach a slot, and what the words themselves say is checked at approval.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import phonenumbers
from django.conf import settings
from django.urls import reverse

from clinicline import phiguard
from clinicline.outbox.service import guard_options
from clinicline.outreach import sms
from clinicline.outreach.kinds import PURPOSE_REASON, REASON_WORDS, SPOKEN, Channel, Purpose, Reason
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice, Provider


class Slot(StrEnum):
    PRACTICE = "practice"
    PROVIDER = "provider"
    CALLBACK_NUMBER = "callback_number"
    REASON = "reason"
    APPOINTMENT_AT = "appointment_at"
    SECURE_LINK = "secure_link"


SLOT_HELP: dict[Slot, str] = {
    Slot.PRACTICE: "the practice's name (refused when the practice keeps its name out of "
                   "messages)",
    Slot.PROVIDER: "a provider's name, from the practice's roster",
    Slot.CALLBACK_NUMBER: "the practice's callback number (spoken digit by digit on calls)",
    Slot.REASON: "appointment, account, results or care-team message, in words that say "
                 "nothing more",
    Slot.APPOINTMENT_AT: "the appointment's day and time, in the practice's time zone "
                         "(reminders only)",
    Slot.SECURE_LINK: "a secure link the patient opens after proving who they are (texts "
                      "and email only; not results-ready texts, whose link follows the "
                      "words by itself)",
}

# How an exempt reminder must tell the patient to opt out, per language.
OPT_OUT = {"en": "Reply STOP to opt out", "es": "Responda STOP para darse de baja"}


@dataclass(frozen=True)
class SecureLink:
    """A link the site made (never a URL someone typed): the patient proves who they are
    before it shows anything."""

    token: str

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL.rstrip('/')}/s/{self.token}"


class ResultsLinkUrl(SecureLink):
    """The results page's own address, ``/r/<token>/`` (``outreach.results``): it asks for
    the date of birth before it shows anything."""

    @property
    def url(self) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("results_link", args=[self.token])


LONGEST_LINK = SecureLink("x" * 22)
# A name longer than most, so that a provider who joins later does not push an approved
# exempt reminder past 160 characters.
LONGEST_PROVIDER = "Dr. Alexandra Montgomery-Whyte"


@dataclass(frozen=True)
class Values:
    """What fills the slots. Only typed values: see the module's docstring."""

    provider: Provider | None = None
    reason: Reason | None = None
    appointment_at: dt.datetime | None = None
    secure_link: SecureLink | None = None


class MissingValue(ValueError):
    """The sender did not give a value a slot needs: a defect in the sender, never shown.
    ``slot``: the slot that had none (None: a provider from another practice's roster)."""

    def __init__(self, message: str, slot: Slot | None = None) -> None:
        super().__init__(message)
        self.slot = slot


# --- reading --------------------------------------------------------------------------

BRACED = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Problem:
    message: str
    kind: str = ""  # what the PHI guard found ("specialty", "person_name"), if it was that


def _where(body: str, offset: int) -> str:
    line = body.count("\n", 0, offset) + 1
    column = offset - (body.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def slots_in(body: str) -> tuple[list[Slot], list[Problem]]:
    """The slots ``body`` uses, in order, and a problem for every unknown slot or stray
    brace, each naming where it is."""
    found: list[Slot] = []
    problems: list[Problem] = []
    at = 0
    for match in BRACED.finditer(body):
        problems += _strays(body, at, match.start())
        name = match.group(1)
        if name in Slot._value2member_map_:
            found.append(Slot(name))
        else:
            problems.append(Problem(
                f"{{{name}}} at {_where(body, match.start())} is not a slot; the slots are "
                + ", ".join(f"{{{s}}}" for s in Slot) + "."))
        at = match.end()
    problems += _strays(body, at, len(body))
    return found, problems


def _strays(body: str, start: int, end: int) -> list[Problem]:
    return [Problem(f"A stray “{body[i]}” at {_where(body, i)}: slots are written "
                    "{like_this}, and braces mean nothing else.")
            for i in range(start, end) if body[i] in "{}"]


# --- rendering -------------------------------------------------------------------------

WEEKDAYS = {"en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]}
MONTHS = {"en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                 "Nov", "Dec"],
          "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct",
                 "nov", "dic"]}
SPOKEN_WEEKDAYS = {"en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                          "Saturday", "Sunday"],
                   "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado",
                          "domingo"]}
SPOKEN_MONTHS = {"en": ["January", "February", "March", "April", "May", "June", "July",
                        "August", "September", "October", "November", "December"],
                 "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
                        "agosto", "septiembre", "octubre", "noviembre", "diciembre"]}


def when(at: dt.datetime, practice: Practice, language: str, spoken: bool = False) -> str:
    """"Thu Dec 10 at 9:30 AM" (spoken: "Thursday, December 10 at 9:30 AM"), in the
    practice's zone."""
    local = at.astimezone(practice.tz)
    hour = local.hour % 12 or 12
    days, months = (SPOKEN_WEEKDAYS, SPOKEN_MONTHS) if spoken else (WEEKDAYS, MONTHS)
    day, month = days[language][local.weekday()], months[language][local.month - 1]
    if language == "es":
        # "de la mañana" rather than "a. m.", whose period doubles the sentence's own.
        part = ("de la mañana" if local.hour < 12 else "de la tarde" if local.hour < 19
                else "de la noche")
        return f"{day} {local.day} {month} a las {hour}:{local.minute:02d} {part}"
    half = "AM" if local.hour < 12 else "PM"
    comma = "," if spoken else ""
    return f"{day}{comma} {month} {local.day} at {hour}:{local.minute:02d} {half}"


@functools.lru_cache(maxsize=256)  # the practice's callback number, in every text
def written_number(number: str) -> str:
    """"617-555-0100", as people write a US number; other countries' national form."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number  # valid E.164 to our validator, unknown to the library: as stored
    if parsed.country_code == 1:
        digits = str(parsed.national_number)
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def spoken_number(number: str) -> str:
    """Digit by digit, grouped as people say them: "6 1 7, 5 5 5, 0 1 0 0" (a speech
    engine would read 6175550100 as six billion...)."""
    groups = re.findall(r"\d+", written_number(number))
    return ", ".join(" ".join(group) for group in groups)


def _needed(value: Any, slot: Slot) -> Any:
    if value is None:
        raise MissingValue(f"no value for {{{slot}}}", slot)
    return value


def slot_values(practice: Practice, channel: str, language: str, values: Values,
                speech: bool | None = None) -> dict[Slot, Any]:
    """A function per slot, called only for the slots a body uses."""
    spoken = channel in SPOKEN if speech is None else speech

    def provider() -> str:
        chosen = _needed(values.provider, Slot.PROVIDER)
        if chosen.practice_id != practice.pk:
            raise MissingValue("the provider is not on this practice's roster")
        return str(chosen.display_name)

    return {
        Slot.PRACTICE: lambda: practice.name,
        Slot.PROVIDER: provider,
        Slot.CALLBACK_NUMBER: lambda: (spoken_number if spoken else written_number)(
            practice.callback_number),
        Slot.REASON: lambda: REASON_WORDS[_needed(values.reason, Slot.REASON)][language],
        Slot.APPOINTMENT_AT: lambda: when(_needed(values.appointment_at, Slot.APPOINTMENT_AT),
                                          practice, language, spoken),
        Slot.SECURE_LINK: lambda: _needed(values.secure_link, Slot.SECURE_LINK).url,
    }


def render(body: str, *, practice: Practice, channel: str, language: str,
           values: Values, speech: bool | None = None) -> str:
    """The words as the patient receives them. ``body`` must be an approved version's (its
    slots were checked then); a value a used slot needs and lacks raises MissingValue.
    ``speech=False`` writes a spoken channel's numbers and dates as a person reads them
    from paper (the printed binder)."""
    return rendered(body, practice=practice, channel=channel, language=language,
                    values=values, speech=speech)[0]


# The slots whose values the guard may take as vouched for: a number, a link and a time the
# site made, a reason from the closed list. Not the provider's or the practice's name: a
# roster entry "Dr. Lee, Oncology" must still be found.
VOUCHED = frozenset({Slot.CALLBACK_NUMBER, Slot.REASON, Slot.APPOINTMENT_AT,
                     Slot.SECURE_LINK})


def rendered(body: str, *, practice: Practice, channel: str, language: str, values: Values,
             speech: bool | None = None) -> tuple[str, list[tuple[int, int, Slot]]]:
    """``render``, with the span of each slot's value in the text."""
    fill = slot_values(practice, channel, language, values, speech)
    parts: list[str] = []
    spans: list[tuple[int, int, Slot]] = []
    at, length = 0, 0
    for match in BRACED.finditer(body):
        parts.append(body[at:match.start()])
        length += match.start() - at
        slot = Slot(match.group(1))
        value = fill[slot]()
        spans.append((length, length + len(value), slot))
        parts.append(value)
        length += len(value)
        at = match.end()
    parts.append(body[at:])
    return "".join(parts), spans


# --- checking --------------------------------------------------------------------------


def rendered_checks(text: str, *, practice: Practice, channel: str, language: str = "en",
                    spans: Sequence[tuple[int, int, Slot]] = (),
                    patient: Patient | None = None, phone: str = "",
                    names: Sequence[str] = (),
                    options: dict[str, Any] | None = None,
                    reuse: bool = False) -> list[Problem]:
    """The PHI guard on every rendering that is approved or sent: one problem for each
    kind it finds (``Problem.kind``; the message never quotes the text).

    Two looks. The first allows what the practice vouches for (its numbers, its secure
    links, its name unless it keeps the name out of messages, its roster's and staff's
    names, ``names``) and the vouched-for slots' ``spans``; it finds the ``patient``'s own
    identifiers and every other kind. The second allows no person's name, and keeps only
    clinical words: a name on the roster cannot carry a specialty ("Dr. Lee, Oncology").

    The guard's reader of person names knows English: in words approved in another
    language, a capitalised word outside the slots ("Responda", "Hola") is not taken for
    a name. The slots' values are read for names in every language. ``options``: the
    practice's ``guard_options``, when the caller already has them. ``reuse``: the guard
    may answer from its look at the same words for another recipient (``phiguard.check``),
    for the sending decision's many renderings alike."""
    vouched = [(start, end) for start, end, slot in spans if slot in VOUCHED]
    # An appointment that falls on the patient's birthday: the guard sees their birthday in
    # "Fri Dec 4", but the slot holds the appointment's own time, never the birth date.
    appointment = [(start, end) for start, end, slot in spans if slot is Slot.APPOINTMENT_AT]
    slotted = [(start, end) for start, end, _ in spans]
    options = dict(guard_options(practice) if options is None else options)
    options["allowed_names"] = [*options["allowed_names"], *names]
    if not practice.name_in_messages:
        options["practice_name"] = ""
    recipient = None if patient is None else phiguard.Recipient(
        name=patient.display_name, date_of_birth=patient.date_of_birth, mrn=patient.mrn,
        address=patient.address or "", phone=phone)
    found = [f.type for f in phiguard.check(text, recipient=recipient, allowed_spans=vouched,
                                            reuse=reuse, **options).findings
             if (language == "en" or f.type != "person_name" or _within(f, slotted))
             and not (f.type == "date_of_birth" and _within(f, appointment))]
    if _names_in(text, options["allowed_names"]):  # else the second look sees the same
        options["allowed_names"] = []
        found += [f.type for f in phiguard.check(text, allowed_spans=vouched, reuse=reuse,
                                                 **options).findings
                  if f.category == "clinical"]
    return [Problem(f"The words as sent would carry {kind.replace('_', ' ')}, which may not "
                    "go by this channel.", kind=kind) for kind in sorted(set(found))]


def _names_in(text: str, names: Sequence[str]) -> bool:
    """Might the guard have let a part of one of ``names`` through in ``text``? (A cheap
    over-estimate: a short part inside a longer word counts.)"""
    folded = text.casefold()
    return any(part.casefold() in folded for name in names for part in name.split()
               if len(part) > 1)


def _within(finding: phiguard.Finding, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= finding.start and finding.end <= end for start, end in spans)


def examples(practice: Practice, language: str, *, longest: bool,
             purpose: str = Purpose.APPOINTMENT_REMINDERS) -> Values:
    """The values a preview shows (the practice's own first provider, the purpose's reason,
    a Thursday morning), or the longest plausible ones (the longest reason of all, whatever
    the purpose), against which an exempt reminder's length is judged."""
    roster = list(Provider.objects.for_practice(practice).order_by("display_name"))
    if longest:
        names = [p.display_name for p in roster] + [LONGEST_PROVIDER]
        provider = Provider(practice=practice, display_name=max(names, key=len))
        reason = max(Reason, key=lambda r: len(REASON_WORDS[r][language]))
        at = dt.datetime(2026, 12, 30, 12, 45, tzinfo=practice.tz)  # "Wed Dec 30 at 12:45 PM"
        return Values(provider, reason, at, LONGEST_LINK)
    provider = roster[0] if roster else Provider(practice=practice, display_name="Dr. Osei")
    at = dt.datetime(2026, 12, 10, 9, 30, tzinfo=practice.tz)
    return Values(provider, PURPOSE_REASON[purpose], at, SecureLink("k7Qx2Lm9"))


@dataclass
class Report:
    """What the checks found: problems refuse approval; notes inform the editor."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    example: str = ""
    longest: str = ""
    shape: sms.Shape | None = None   # texts only: of the longest rendering

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        shape = {} if self.shape is None else {
            "encoding": str(self.shape.encoding), "units": self.shape.units,
            "segments": self.shape.segments}
        return {"problems": self.problems, "notes": self.notes, **shape}


# A results text's link follows its words by itself, and only for a patient who agreed to
# the portal for results: for every other patient a {secure_link} slot would have nothing
# to hold, and the text could not be sent at all.
RESULTS_LINK_SLOT = ("{secure_link} is refused in a results-ready text: the link to the "
                     "results page follows the words by itself, and only for a patient who "
                     "agreed to the portal for results (for anyone else there is no link).")


def _slot_rules(slots: list[Slot], practice: Practice, purpose: str,
                channel: str) -> list[str]:
    problems = []
    if Slot.APPOINTMENT_AT in slots and purpose != Purpose.APPOINTMENT_REMINDERS:
        problems.append("{appointment_at} is for appointment reminders only.")
    if Slot.SECURE_LINK in slots and channel in SPOKEN:
        problems.append("{secure_link} cannot be spoken: use it in texts and email.")
    elif Slot.SECURE_LINK in slots and (purpose, channel) == (Purpose.RESULTS_READY,
                                                              Channel.SMS):
        problems.append(RESULTS_LINK_SLOT)
    if Slot.PRACTICE in slots and not practice.name_in_messages:
        problems.append("This practice keeps its name out of messages, so {practice} is "
                        "refused; name the provider's office instead ({provider}'s office).")
    return problems


def _words_rules(body: str, practice: Practice) -> list[str]:
    if not practice.name_in_messages and practice.name.casefold() in body.casefold():
        return [f"The words name the practice (“{practice.name}”), which it keeps out of "
                "messages."]
    return []


def _exempt_rules(body: str, slots: list[Slot], practice: Practice, purpose: str,
                  channel: str, language: str, shape: sms.Shape | None) -> list[str]:
    """The FCC's healthcare exemption for texts: at most 160 GSM-7 characters, naming the
    provider and a contact number, with a way to opt out, and no billing content."""
    if channel != Channel.SMS:
        return ["Only a text message can be marked exempt."]
    problems = []
    if purpose == Purpose.BILLING:
        problems.append("Billing texts cannot use the healthcare exemption (it excludes "
                        "billing and other financial content).")
    named = Slot.PRACTICE if practice.name_in_messages else Slot.PROVIDER
    if named not in slots:
        who = "practice" if named is Slot.PRACTICE else "provider"
        problems.append(f"An exempt text must name the {who} ({{{named}}}).")
    if Slot.CALLBACK_NUMBER not in slots:
        problems.append("An exempt text must give the callback number ({callback_number}).")
    if OPT_OUT[language].casefold() not in body.casefold():
        problems.append(f"An exempt text must say “{OPT_OUT[language]}”.")
    if shape is not None and shape.encoding is not sms.Encoding.GSM7:
        verb = "makes" if len(shape.forcing) == 1 else "make"
        problems.append("An exempt text must be plain GSM-7: "
                        + ", ".join(f"“{c}”" for c in shape.forcing) + f" {verb} it UCS-2.")
    elif shape is not None and shape.units > sms.GSM_SINGLE:
        problems.append(f"An exempt text must fit 160 characters with the longest names; "
                        f"this one comes to {shape.units}.")
    return problems


def _sms_notes(body: str, shape: sms.Shape) -> list[str]:
    notes = [f"{shape.encoding}, {shape.units} characters: {shape.segments} "
             f"segment{'s' if shape.segments != 1 else ''} with the longest names."]
    if shape.encoding is sms.Encoding.UCS2:
        chars = ", ".join(f"“{c}”" for c in shape.forcing)
        verb = "forces" if len(shape.forcing) == 1 else "force"
        notes.append(f"{chars} {verb} UCS-2 (70 characters a segment instead of 160).")
        if sms.is_gsm7(sms.plain(body)):
            notes.append(f"With plain characters it would be GSM-7: {sms.plain(body)}")
    return notes


def check(body: str, *, practice: Practice, purpose: str, channel: str, language: str,
          exempt: bool = False) -> Report:
    """Everything approval asks of a version's words (its slots, its length, the exemption,
    the practice's name), with the example and longest renderings."""
    if not body.strip():
        return Report(problems=["The words are empty."])
    slots, problems = slots_in(body)
    report = Report(problems=[p.message for p in problems])
    if report.problems:
        return report  # an unknown slot: nothing can be rendered
    report.problems += _slot_rules(slots, practice, purpose, channel)
    report.problems += _words_rules(body, practice)
    if report.problems:
        return report
    for longest in (False, True):
        values = examples(practice, language, longest=longest, purpose=purpose)
        text, spans = rendered(body, practice=practice, channel=channel, language=language,
                               values=values)
        if longest:
            report.longest = text
        else:
            report.example = text
        report.problems += [p.message for p in rendered_checks(
            text, practice=practice, channel=channel, language=language, spans=spans,
            names=[values.provider.display_name] if values.provider else [])
            if p.message not in report.problems]
    if channel == Channel.SMS:
        report.shape = sms.measure(report.longest)
        report.notes += _sms_notes(body, report.shape)
    if exempt:
        report.problems += _exempt_rules(body, slots, practice, purpose, channel, language,
                                         report.shape)
    return report
