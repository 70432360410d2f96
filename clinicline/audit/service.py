"""Writing audit events. Call ``record`` in the same transaction as the change it records.

An append is: lock the chain's head, hash the event onto it, insert the event and move the
head. This runs on every touch of PHI, so it is plain SQL rather than the ORM (through the
ORM, chaining cost twice what the INSERT itself did), and on PostgreSQL the insert and the
head's move travel as one statement, to spare a round trip.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.chain import GENESIS, HASHED, clean, hashed_values, link
from clinicline.audit.models import Action, AuditEvent, AuditHead, Outcome

COLUMNS = (*HASHED, "prev_hash", "hash")  # every column but id (a test holds the model to it)


class Statements(NamedTuple):
    lock_head: str
    append: str        # inserts the event (and, where move_head is empty, moves the head)
    move_head: str


@functools.cache
def _statements(vendor: str) -> Statements:
    quote = connection.ops.quote_name
    head, seq, hash_, id_ = (quote(AuditHead._meta.db_table), quote("seq"), quote("hash"),
                             quote("id"))
    # FOR UPDATE makes concurrent appends queue on PostgreSQL. SQLite has no row locks and
    # needs none: its IMMEDIATE transactions take the one write lock at BEGIN.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    insert = (f"INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608 (fixed names)
              f"({', '.join(map(quote, COLUMNS))}) VALUES ({', '.join(['%s'] * len(COLUMNS))})")
    move = f"UPDATE {head} SET {seq} = %s, {hash_} = %s WHERE {id_} = 1"  # noqa: S608
    lock_head = f"SELECT {seq}, {hash_} FROM {head} WHERE {id_} = 1{lock}"  # noqa: S608
    if vendor == "postgresql":
        # A data-modifying WITH runs exactly once, beside the INSERT. Its placeholders come
        # first in the text, so the head's new values lead the parameters.
        return Statements(lock_head, f"WITH moved AS ({move}) {insert} RETURNING {id_}", "")
    return Statements(lock_head, insert, move)


def _lock_head(cursor: CursorWrapper, select: str) -> tuple[int, str]:
    cursor.execute(select)
    row = cursor.fetchone()
    if row is None:
        # The first append ever (or after a test flush). Two first appenders may both reach
        # here; get_or_create lets the loser read the winner's row.
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
        cursor.execute(select)
        row = cursor.fetchone()
    return row


def _append(event: AuditEvent) -> None:
    statements = _statements(connection.vendor)
    with transaction.atomic(), connection.cursor() as cursor:
        seq, event.prev_hash = _lock_head(cursor, statements.lock_head)
        event.seq = seq + 1
        event.at = timezone.now()  # taken under the lock, so that time order is chain order
        event.hash = link(event.prev_hash, hashed_values(event))
        values: list[Any] = [getattr(event, name) for name in COLUMNS]
        values[1] = connection.ops.adapt_datetimefield_value(event.at)
        head = (event.seq, event.hash)
        if statements.move_head:
            cursor.execute(statements.append, values)
            event.pk = cursor.lastrowid
            cursor.execute(statements.move_head, head)
        else:
            cursor.execute(statements.append, [*head, *values])
            event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


def client_ip(request: HttpRequest | None) -> str:
    """The client's address. Behind TRUSTED_PROXY_HOPS proxies that each append the address
    they saw to X-Forwarded-For, the client is that many entries from the end (entries
    further left are the client's own claims and are not trusted)."""
    if request is None:
        return ""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if a.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops][:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45]


def _id(value: Any) -> int | None:
    """An id as the database returns it: the hash is of what verify() will read back."""
    value = getattr(value, "pk", value)
    return None if value is None else int(value)


def record(
    action: Action,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    practice: Any = None,
    obj: models.Model | None = None,
    patient: Any = None,
    fields: Iterable[str] = (),
    reason: str = "",
    outcome: Outcome = Outcome.SUCCESS,
) -> AuditEvent:
    """Append one event to the chain. ``practice`` and ``patient`` may be objects or ids."""
    user = getattr(request, "user", None)  # a webhook's request has none
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    # Values are cut to their columns here, not by the database: SQLite would keep the
    # excess, PostgreSQL would refuse the row, and the hash must be of what is stored.
    event = AuditEvent(
        actor_id=_id(actor),
        actor_label=clean(getattr(actor, "username", "") or "")[:150],
        practice_id=_id(practice),
        action=str(action),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=clean(str(obj.pk))[:64] if obj is not None else "",
        patient_id=clean(str(getattr(patient, "pk", patient) or ""))[:64],
        fields=clean(",".join(fields)),
        ip=clean(client_ip(request)),
        user_agent=clean(request.META.get("HTTP_USER_AGENT", "") if request else "")[:256],
        reason=clean(reason),
        outcome=str(outcome),
    )
    _append(event)
    return event
