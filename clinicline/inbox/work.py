"""Working a message: open, claim, reassign, note, close. Each change is a conditional
UPDATE (so two nurses cannot both claim, nor close a message twice) with its audit event in
the same transaction. Audit rows name ids and field names, never what a message says.

``Refused`` is bad input (an unknown outcome, an empty note, a team the message may not go
to): nothing is saved. ``Conflict`` is a race lost or a state that no longer allows the step
(someone claimed it first, it is closed): nothing is saved either.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinicline.accounts.models import Membership
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.forms import parse_id
from clinicline.inbox.models import Message, MessageNote, MessageStatus, Outcome, ReadReceipt
from clinicline.inbox.visibility import can_receive, role_may_open
from clinicline.practices.models import Team

log = logging.getLogger(__name__)

NOTE_MAX_CHARS = 4000
OPEN = (MessageStatus.NEW, MessageStatus.CLAIMED)


class Refused(ValueError):
    """Bad input; the message says what to fix and holds no PHI."""


class Conflict(Exception):
    """The message is no longer in a state that allows this (someone else got there first)."""


def shown_fields(message: Message) -> list[str]:
    """The names of what the message page shows: for the audit trail."""
    names = sorted(message.fields)
    names += [m for m in ("answers", "transcript", "conversation") if message.content.get(m)]
    return [*names, "triage", *(["notes"] if message.notes.exists() else [])]


def _audit(action: Action, membership: Membership, message: Message,
           request: HttpRequest | None, fields: list[str], reason: str = "") -> None:
    record(action, request=request, actor=membership.user, practice=message.practice_id,
           obj=message, patient=message.patient_id or "", fields=fields, reason=reason)


def _row(message: Message) -> QuerySet[Message]:
    """The one row, as a queryset (for conditional updates)."""
    return Message.objects.filter(pk=message.pk, practice_id=message.practice_id)


def open_for_reading(membership: Membership, message: Message, *,
                     request: HttpRequest | None = None) -> ReadReceipt:
    """One opening: a read receipt and an audit VIEW naming the fields shown."""
    with transaction.atomic():
        receipt = ReadReceipt.objects.create(practice_id=message.practice_id, message=message,
                                             user=membership.user)
        _audit(Action.VIEW, membership, message, request, shown_fields(message))
    return receipt


def claim(membership: Membership, message: Message, *,
          request: HttpRequest | None = None) -> None:
    now = timezone.now()
    with transaction.atomic():
        won = _row(message).filter(status=MessageStatus.NEW).update(
            status=MessageStatus.CLAIMED, claimed_by=membership.user, claimed_at=now,
            updated_at=now)
        if won != 1:
            raise Conflict("Someone has already claimed this message, or it is closed.")
        _audit(Action.MESSAGE_CLAIM, membership, message, request, ["status", "claimed_by"])
    message.refresh_from_db(fields=["status", "claimed_by", "claimed_at", "updated_at"])


def _target_team(message: Message, team_id: str | int | None) -> Team | None:
    if team_id in (None, ""):
        return None
    pk = parse_id(team_id)
    team = Team.objects.filter(practice_id=message.practice_id, pk=pk).first() if pk else None
    if team is None or not can_receive(team, message):
        raise Refused("That team's queue cannot take this message: nobody there may open it.")
    return team


def _target_member(message: Message, team: Team, user_id: str | int | None) -> Membership | None:
    if user_id in (None, ""):
        return None
    pk = parse_id(user_id)
    member = Membership.objects.filter(practice_id=message.practice_id, user_id=pk) \
        .select_related("user").first() if pk else None
    if (member is None or not member.user.is_active
            or not role_may_open(member.role, team.work, message.clinical)):
        raise Refused("That person cannot open this message, so it cannot be assigned to them.")
    return member


def reassign(membership: Membership, message: Message, *, team_id: str | int | None = None,
             user_id: str | int | None = None, request: HttpRequest | None = None) -> None:
    """Move an open message to another team's queue, and/or assign it to a member who may
    open it there (assigned means claimed on their behalf)."""
    team = _target_team(message, team_id)
    member = _target_member(message, team or message.team, user_id)
    if team is None and member is None:
        raise Refused("Choose a team, a person, or both.")
    changes: dict[str, object] = {"updated_at": timezone.now()}
    if team is not None:
        changes["team"] = team
    if member is not None:
        changes.update(status=MessageStatus.CLAIMED, claimed_by=member.user,
                       claimed_at=changes["updated_at"])
    reason = " ".join([*([f"team {message.team_id}->{team.pk}"] if team else []),
                       *([f"member {member.user_id}"] if member else [])])
    with transaction.atomic():
        if _row(message).filter(status__in=OPEN).update(**changes) != 1:
            raise Conflict("This message is closed; it cannot be reassigned.")
        _audit(Action.MESSAGE_ASSIGN, membership, message, request,
               [k for k in ("team", "claimed_by") if k in changes], reason)
    message.refresh_from_db()


def add_note(membership: Membership, message: Message, body: str, *,
             request: HttpRequest | None = None) -> MessageNote:
    body = (body or "").strip()
    if not body:
        raise Refused("A note cannot be empty.")
    if len(body) > NOTE_MAX_CHARS:
        raise Refused(f"A note is at most {NOTE_MAX_CHARS} characters.")
    with transaction.atomic():
        note = MessageNote(practice_id=message.practice_id, message=message,
                           author=membership.user, body=body)
        note.save(force_insert=True)
        _row(message).update(updated_at=timezone.now())
        _audit(Action.MESSAGE_NOTE, membership, message, request, ["notes"])
    return note


def close(membership: Membership, message: Message, outcome: str, *,
          request: HttpRequest | None = None) -> None:
    """Close with an outcome. Only a new message, or one this member claimed, can be closed:
    a message someone else is working is theirs to close (or to reassign first)."""
    if outcome not in Outcome.values:
        raise Refused("Choose an outcome from the list.")
    now, user = timezone.now(), membership.user
    mine = Q(status=MessageStatus.NEW) | Q(status=MessageStatus.CLAIMED, claimed_by=user)
    with transaction.atomic():
        done = _row(message).filter(mine).update(
            status=MessageStatus.CLOSED, outcome=outcome, closed_by=user, closed_at=now,
            updated_at=now)
        if done != 1:
            raise Conflict("This message is closed already, or someone else is working it.")
        _audit(Action.MESSAGE_CLOSE, membership, message, request, ["status", "outcome"],
               outcome)
    log.info("message %s closed: %s", message.pk, outcome)
    message.refresh_from_db()
