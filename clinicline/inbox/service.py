"""Opening messages and raising their priority: the one way a call, a voicemail or a text
becomes a message in a team queue.

``open_message`` does, in one transaction: triage under the protocol in force (the
decision is the protocol's, never the agent's guess), route by the practice's rules and
office hours, seal the content, audit. ``raise_priority`` re-triages a message with new
free text (a voicemail transcript, the next text of a conversation): a priority only ever
goes up, and a message that goes up is routed again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.routing import route
from clinicline.inbox.visibility import CLINICAL_CALL_TYPES, NON_CLINICAL_QUEUES
from clinicline.intake.service import version_of as call_type_version
from clinicline.intake.spec import CallType
from clinicline.patients.models import BY_PHONE, Patient
from clinicline.patients.normalize import InvalidPhone, phone_e164
from clinicline.patients.service import find_by_name_dob
from clinicline.practices import hours
from clinicline.practices.models import Practice, Team
from clinicline.triage import service as triage
from clinicline.triage.engine import Decision
from clinicline.triage.spec import Priority
from clinicline.vault.blind import blind_index

log = logging.getLogger(__name__)

FREE_TEXT_KINDS = {"text", "longtext"}


def free_texts(call_type: CallType, fields: Mapping[str, Any]) -> list[str]:
    """Every free-text value the caller gave: what the red-flag detector reads."""
    return [str(fields[f.name]) for f in call_type.fields
            if f.kind in FREE_TEXT_KINDS and fields.get(f.name)]


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
    detail = {"priority": str(decision.priority), "rules": list(decision.rules),
              "actions": [str(a) for a in decision.actions], "script": decision.script,
              "red_flags": list(decision.red_flags), "advise_911": decision.advise_911,
              "escalate_now": decision.escalate_now}
    if floor and Priority(floor).rank > decision.priority.rank:
        detail["priority"] = floor
        detail["rules"].append(floor_rule)
    return detail


def is_clinical(call_type: str, detail: Mapping[str, Any]) -> bool:
    return (call_type in CLINICAL_CALL_TYPES or detail["priority"] != Priority.ROUTINE
            or bool(detail.get("red_flags")))


def team_for(practice: Practice, call_type: str, priority: str, office_open: bool,
             clinical: bool) -> Team:
    """The routed team; clinical content never waits in a queue only non-clinical staff
    work (billing, scheduling, the manager), whatever the practice's own rules say: it
    goes where a clinical call would."""
    team = route(practice, call_type, priority, office_open)
    if clinical and team.slug in NON_CLINICAL_QUEUES:
        return route(practice, "clinical", priority, office_open)
    return team


def open_message(practice: Practice, call_type: CallType, fields: Mapping[str, Any], *,
                 source: str = Source.AGENT, answers: Mapping[str, bool] | None = None,
                 extra_texts: Iterable[str] = (), at: dt.datetime | None = None,
                 caller_number: str = "", call_sid: str = "", floor: str = "",
                 floor_rule: str = "", taken_by: Any = None,
                 request: HttpRequest | None = None, **sealed: Any) -> Message:
    """Triage, route, seal and audit a new message, in one transaction.

    ``call_type`` is the version's call type the fields were taken under; ``fields`` only
    its fields (anything else is dropped). ``floor`` is a priority the message gets at
    least, with ``floor_rule`` recorded as the reason (an IVR caller who pressed "urgent").
    ``sealed`` sets more sealed members (``transcript``, ``conversation``).
    """
    at = at or timezone.now()
    allowed = set(call_type.field_names())
    fields = {k: v for k, v in fields.items() if k in allowed}
    answers = dict(answers or {})
    with transaction.atomic():
        protocol = triage.protocol_for(practice)
        texts = [*free_texts(call_type, fields), *extra_texts]
        decision = triage.decide(protocol.spec, call_type.slug, answers, texts)
        detail = triage_record(decision, floor=floor, floor_rule=floor_rule)
        office_open = hours.is_open(practice, at)
        clinical = is_clinical(call_type.slug, detail)
        message = Message(
            practice=practice, source=source, call_type=call_type.slug,
            call_type_version=call_type.version, protocol_version=protocol.version,
            priority=detail["priority"], clinical=clinical, office_open=office_open,
            team=team_for(practice, call_type.slug, detail["priority"], office_open, clinical),
            patient=matching_patient(practice, fields), triage=detail,
            caller_index=caller_index(practice, caller_number or fields.get("callback_number", "")),
            call_sid=call_sid, taken_by=taken_by if getattr(taken_by, "pk", None) else None,
            retain_until=retain_until(practice, at))
        message.fields = _jsonable(fields)
        message.answers = answers
        for name, value in sealed.items():
            setattr(message, name, value)
        message.save(force_insert=True)
        record(Action.CREATE, request=request, actor=taken_by, practice=practice, obj=message,
               patient=message.patient_id or "", fields=sorted(message.content))
    log.info("message %s opened: %s %s to team %s", message.pk, message.priority,
             message.call_type, message.team_id)
    return message


def raise_priority(message: Message, texts: Iterable[str], *, reason: str) -> bool:
    """Re-triage ``message`` with every free text it now holds plus ``texts``; if that gives
    a higher priority, raise it and route it again. Never lowers. Red flags that raise no
    priority still make the message clinical (and route it as such). True if it rose.

    The caller holds the row (``select_for_update``) inside a transaction and saves the
    content it changed; this saves priority, triage and team."""
    call_types = call_type_version(message.practice, message.call_type_version)
    call_type = call_types.get(message.call_type) if call_types else None
    given = free_texts(call_type, message.fields) if call_type else []
    protocol = triage.version_of(message.practice, message.protocol_version)
    spec = protocol.spec if protocol else triage.protocol_for(message.practice).spec
    decision = triage.decide(spec, message.call_type, message.answers, [*given, *texts])
    rose = decision.priority.rank > Priority(message.priority).rank
    newly_clinical = bool(decision.red_flags) and not message.clinical
    if not rose and not newly_clinical:
        return False
    message.triage = {**message.triage,
                      **(triage_record(decision) if rose else {}),
                      "red_flags": sorted({*message.triage.get("red_flags", []),
                                           *decision.red_flags}),
                      "rules": sorted({*message.rules, *decision.rules}),
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
