"""Opening messages and raising their priority: the one way a call, a voicemail or a text
becomes a message in a team queue.

Intake hands the inbox a ``Taken``: what a call, voicemail or text left, already cut to
its call type's fields, and what the caller was told. ``open_message`` does, in one
transaction: triage under the protocol in force (the decision is the protocol's, never the
agent's guess), route by the practice's rules and office hours, seal the content, audit.
``append_to_message`` adds what the caller said since (the next text, a voicemail's
transcript) and re-triages: a priority only ever goes up, and a message that goes up is
routed again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.routing import clinical_team, route
from clinicline.inbox.visibility import NON_CLINICAL_WORK
from clinicline.patients.models import BY_PHONE, Patient
from clinicline.patients.normalize import InvalidPhone, phone_e164
from clinicline.patients.service import find_by_name_dob
from clinicline.practices import hours
from clinicline.practices.models import Practice, Team
from clinicline.triage import service as triage
from clinicline.triage.engine import Decision, decide
from clinicline.triage.spec import Priority
from clinicline.vault.blind import blind_index

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Taken:
    """What intake hands to the inbox: one call, voicemail or text, as it was taken."""

    call_type: str                      # the call type's slug
    call_type_version: int
    clinical: bool                      # the call type's own word: its content is clinical
    fields: Mapping[str, Any]           # only the call type's fields
    free_text_fields: tuple[str, ...]   # which of them hold the caller's own words
    source: str = Source.AGENT
    answers: Mapping[str, bool] = field(default_factory=dict)
    at: dt.datetime | None = None
    caller_number: str = ""
    call_sid: str = ""
    floor: str = ""                     # a priority it gets at least (pressed "urgent")
    floor_rule: str = ""                # recorded as the reason for the floor
    said: tuple[str, ...] = ()          # what the caller was told or sent, word for word
    transcript: str = ""
    conversation: tuple[Mapping[str, Any], ...] = ()
    scripts_version: int | None = None  # the practice's scripts the caller heard
    language: str = "en"

    def free_texts(self) -> list[str]:
        """Every free-text value the caller gave: what the red-flag detector reads."""
        return [str(self.fields[n]) for n in self.free_text_fields if self.fields.get(n)]


def caller_index(practice: Practice, number: str) -> str:
    try:
        return blind_index(practice.pk, BY_PHONE, phone_e164(number)) if number else ""
    except InvalidPhone:
        return ""


def retain_until(practice: Practice, at: dt.datetime) -> dt.date:
    return at.astimezone(practice.tz).date() + dt.timedelta(days=practice.message_retention_days)


def matching_patient(practice: Practice, fields: Mapping[str, Any]) -> Patient | None:
    """The one patient whose name and date of birth are those given, if exactly one."""
    name, dob = str(fields.get("patient_name") or "").split(), fields.get("date_of_birth")
    if len(name) < 2 or not isinstance(dob, dt.date):
        return None
    found = find_by_name_dob(practice, name[0], name[-1], dob)
    return found[0] if len(found) == 1 else None


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()
            if v not in (None, "")}


def triage_record(decision: Decision, *, floor: str = "", floor_rule: str = "") -> dict[str, Any]:
    detail: dict[str, Any] = {
        "priority": str(decision.priority), "rules": list(decision.rules),
        "because": list(decision.because),
        "actions": [str(a) for a in decision.actions], "script": decision.script,
        "red_flags": list(decision.red_flags), "advise_911": decision.advise_911,
        "escalate_now": decision.escalate_now}
    if floor and Priority(floor).rank > decision.priority.rank:
        detail["priority"] = floor
        detail["rules"].append(floor_rule)
    return detail


def is_clinical(call_type_clinical: bool, detail: Mapping[str, Any]) -> bool:
    return (call_type_clinical or detail["priority"] != Priority.ROUTINE
            or bool(detail.get("red_flags")))


def team_for(practice: Practice, call_type: str, priority: str, office_open: bool,
             clinical: bool) -> Team:
    """The routed team; clinical content never waits in a queue only non-clinical staff
    work (billing, scheduling, the manager), whatever the practice's own rules say: it
    goes where a clinical call would."""
    team = route(practice, call_type, priority, office_open)
    if clinical and team.work in NON_CLINICAL_WORK:
        return clinical_team(practice)
    return team


def open_message(practice: Practice, taken: Taken, *, taken_by: Any = None,
                 request: HttpRequest | None = None) -> Message:
    """Triage, route, seal and audit a new message, in one transaction."""
    at = taken.at or timezone.now()
    with transaction.atomic():
        protocol = triage.protocol_for(practice)
        decision = decide(protocol.spec, taken.call_type, dict(taken.answers),
                          taken.free_texts(), at=at.astimezone(practice.tz))
        detail = triage_record(decision, floor=taken.floor, floor_rule=taken.floor_rule)
        detail["free_text_fields"] = list(taken.free_text_fields)
        detail["said"] = list(taken.said)
        office_open = hours.is_open(practice, at)
        clinical = is_clinical(taken.clinical, detail)
        number = taken.caller_number or taken.fields.get("callback_number", "")
        message = Message(
            practice=practice, source=taken.source, call_type=taken.call_type,
            call_type_version=taken.call_type_version, protocol_version=protocol.version,
            scripts_version=taken.scripts_version, language=taken.language,
            priority=detail["priority"], clinical=clinical, office_open=office_open,
            team=team_for(practice, taken.call_type, detail["priority"], office_open,
                          clinical),
            patient=matching_patient(practice, taken.fields), triage=detail,
            caller_index=caller_index(practice, number), call_sid=taken.call_sid,
            taken_by=taken_by if getattr(taken_by, "pk", None) else None,
            retain_until=retain_until(practice, at))
        message.fields = _jsonable(taken.fields)
        message.answers = dict(taken.answers)
        if taken.transcript:
            message.transcript = taken.transcript
        if taken.conversation:
            message.conversation = [dict(entry) for entry in taken.conversation]
        message.save(force_insert=True)
        record(Action.CREATE, request=request, actor=taken_by, practice=practice, obj=message,
               patient=message.patient_id or "", fields=sorted(message.content))
    log.info("message %s opened: %s %s to team %s", message.pk, message.priority,
             message.call_type, message.team_id)
    return message


def append_to_message(message: Message, texts: Iterable[str], *, sealed: str, reason: str,
                      columns: Iterable[str] = ()) -> bool:
    """Save what the caller added to a message (its ``sealed`` member, already set: the
    next text of a conversation, a voicemail's transcript) with ``columns`` the caller set
    beside it, audit it, and re-triage with the added ``texts``. The caller holds the row
    (``select_for_update``) in a transaction. True if the priority rose."""
    message.save(update_fields=["content", "updated_at", *columns])
    record(Action.UPDATE, practice=message.practice_id, obj=message,
           patient=message.patient_id or "", fields=[sealed], reason=reason)
    return raise_priority(message, texts, reason=reason)


def given_texts(message: Message) -> list[str]:
    """The caller's own words among the message's fields (for a message opened before
    they were recorded by name: every text field)."""
    names = message.triage.get("free_text_fields")
    fields = message.fields
    if names is None:
        return [v for k, v in fields.items() if isinstance(v, str) and k != "callback_number"]
    return [str(fields[n]) for n in names if fields.get(n)]


def raise_priority(message: Message, texts: Iterable[str], *, reason: str) -> bool:
    """Re-triage ``message`` with every free text it now holds plus ``texts``; if that gives
    a higher priority, raise it and route it again. Never lowers. Red flags that raise no
    priority still make the message clinical (and route it as such). True if it rose.

    The caller holds the row (``select_for_update``) inside a transaction and saves the
    content it changed; this saves priority, triage and team."""
    given = given_texts(message)
    protocol = triage.version_of(message.practice, message.protocol_version)
    spec = protocol.spec if protocol else triage.protocol_for(message.practice).spec
    decision = decide(spec, message.call_type, message.answers, [*given, *texts],
                      at=timezone.now().astimezone(message.practice.tz))
    rose = decision.priority.rank > Priority(message.priority).rank
    newly_clinical = bool(decision.red_flags) and not message.clinical
    if not rose and not newly_clinical:
        return False
    message.triage = {**message.triage,
                      **(triage_record(decision) if rose else {}),
                      "red_flags": sorted({*message.triage.get("red_flags", []),
                                           *decision.red_flags}),
                      "rules": sorted({*message.rules, *decision.rules}),
                      "because": list(dict.fromkeys([*message.because, *decision.because])),
                      "raised_by": reason}
    if rose:
        message.priority = str(decision.priority)
    message.clinical = True  # red flags, or a priority above routine
    message.team = team_for(message.practice, message.call_type, message.priority,
                            message.office_open, clinical=True)
    if message.status == MessageStatus.CLOSED:  # new red flags reopen it
        message.status, message.closed_at = MessageStatus.NEW, None
    message.save(update_fields=["triage", "priority", "clinical", "team", "status",
                                "closed_at", "updated_at"])
    record(Action.MESSAGE_TRIAGE, practice=message.practice_id, obj=message,
           patient=message.patient_id or "", fields=["priority"], reason=reason)
    log.info("message %s re-triaged: %s (%s)", message.pk, message.priority, reason)
    return rose
