"""How every job of the worker takes its work: ``claim_due`` and ``backoff``.

Due work is rows with a due time. A job hands ``claim_due`` the rows that are due now (a
filtered, ordered queryset) and the columns that mark a row taken (a lease: a due time
moved ahead, a state, an attempt counted with ``F()``). On PostgreSQL the candidates are
locked with SKIP LOCKED, so workers on many machines take disjoint rows without waiting on
each other; everywhere, the rows are then taken by one conditional UPDATE that repeats the
"due" filter and must touch every one of them; when it touches fewer (another worker took
some in between), it is undone and each row is taken by an UPDATE of its own that must
touch exactly that one row, and a row another worker took touches none and is skipped.
Whatever a worker then does with a claimed row, it writes its own next step (done, or due
again after ``backoff``) in its own transaction; a worker that dies holding a lease delays
that row by the lease, never loses it. ``each`` runs a job's step over the rows it
claimed, so that one row's bug stops none of the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 3600


def claim_due(due: QuerySet[M], limit: int, **claim: Any) -> list[M]:
    """Up to ``limit`` rows of ``due``, in its order, each marked with ``claim`` and now
    this caller's alone."""
    with transaction.atomic():
        candidates = due
        if connection.features.has_select_for_update_skip_locked:
            candidates = due.select_for_update(skip_locked=True)
        pks = list(candidates.values_list("pk", flat=True)[:limit])
        won = _take_all(due, pks, claim) or [
            pk for pk in pks if due.filter(pk=pk).update(**claim) == 1]
    # Read back by key alone (a claimed row may no longer match ``due``), with the
    # relations ``due`` asked for.
    taken = due.model._default_manager.filter(pk__in=won)
    taken.query.select_related = due.query.select_related
    rows = {row.pk: row for row in taken}
    return [rows[pk] for pk in won if pk in rows]


def _take_all(due: QuerySet[M], pks: list[Any], claim: dict[str, Any]) -> list[Any]:
    """Every one of ``pks`` taken in one UPDATE, when every one is still due (the usual
    case: on PostgreSQL they are locked; on SQLite nobody wrote between the read and
    now); otherwise nothing is taken (the savepoint is undone) and each is tried alone."""
    if not pks:
        return []
    with transaction.atomic():
        if due.filter(pk__in=pks).update(**claim) == len(pks):
            return pks
        transaction.set_rollback(True)
    return []


def each(rows: Iterable[M], step: Callable[[M], int], log: logging.Logger, what: str) -> int:
    """``step`` on each claimed row, summed. A row whose step raises is logged by the
    exception's type alone (its message may quote what the row holds) and skipped: its
    lease runs out and it is tried again, and the other rows go on."""
    done = 0
    for row in rows:
        try:
            done += step(row)
        except Exception as exc:  # noqa: BLE001 (one row's bug must not stop the others)
            log.error("%s %s failed: %s", what, row.pk, type(exc).__name__)
    return done


def backoff(attempts: int, base_s: float = BACKOFF_BASE_S,
            cap_s: float = BACKOFF_CAP_S) -> dt.timedelta:
    """The wait after the ``attempts``-th failed try: ``base_s``, then doubling, up to
    ``cap_s`` (30 s, 1 min, 2 min, … an hour by default)."""
    return dt.timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), cap_s))
