"""Verifying the chain: every link recomputed, every sequence number accounted for.

Verification reads no more than one snapshot at a time and never locks, so it may run while
others append. The head is read before the events and, if the events run past it, again
after: an append commits its event and the head together, so an honest chain always reaches
the first head read, and whatever it holds beyond that the second read must cover.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.backends.utils import CursorWrapper

from clinicline.audit.chain import GENESIS, canonical_sql, digest
from clinicline.audit.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class Verdict:
    count: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None and not self.problem

    def __str__(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.count} events, head {self.head_hash}"
        where = f"event #{self.broken_seq}"
        if self.broken_id is not None:
            where += f" (id {self.broken_id})"
        return f"audit chain broken at {where}: {self.problem}"


def _head() -> tuple[int, str]:
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return head or (0, GENESIS)


def _query() -> str:
    quote = connection.ops.quote_name
    text = canonical_sql(connection.vendor, quote)
    return (f"SELECT {quote('id')}, {quote('seq')}, {text}, {quote('prev_hash')}, "  # noqa: S608 (fixed names)
            f"{quote('hash')} FROM {quote(AuditEvent._meta.db_table)} ORDER BY {quote('seq')}")


def _cursor() -> CursorWrapper:
    # A server-side cursor on PostgreSQL, so a long chain is not held in memory at once;
    # unless server-side cursors are off (transaction pooling), as for QuerySet.iterator().
    if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        return connection.cursor()
    return connection.chunked_cursor()


def verify(chunk: int = 2_000) -> Verdict:
    """Walk the whole chain in order; stop at the first broken link."""
    head_seq, head_hash = _head()
    prev_hash, prev_seq = GENESIS, 0
    past_head_id: int | None = None  # the first event after the head, if any
    with _cursor() as cursor:
        cursor.execute(_query())
        while rows := cursor.fetchmany(chunk):
            for event_id, seq, text, row_prev, row_hash in rows:
                if seq != prev_seq + 1:
                    return _gap(prev_seq, prev_hash, seq, event_id)
                if row_prev != prev_hash:
                    return Verdict(prev_seq, prev_hash, seq, event_id,
                                   "its link to the previous event is broken")
                if digest(prev_hash, text) != row_hash:
                    return Verdict(prev_seq, prev_hash, seq, event_id, "it was changed")
                if seq == head_seq and row_hash != head_hash:
                    return Verdict(prev_seq, prev_hash, seq, event_id,
                                   "it is not the event the chain's head recorded")
                if seq == head_seq + 1:
                    past_head_id = event_id
                prev_hash, prev_seq = row_hash, seq
    return _ends(prev_seq, prev_hash, (head_seq, head_hash), past_head_id)


def _missing(first: int, last: int) -> str:
    return f"event #{first} is" if first == last else f"events #{first} to #{last} are"


def _gap(prev_seq: int, prev_hash: str, seq: int, event_id: int) -> Verdict:
    if seq > prev_seq + 1:
        problem = f"{_missing(prev_seq + 1, seq - 1)} missing before it (deleted)"
    else:
        problem = f"it is out of sequence (expected #{prev_seq + 1})"
    return Verdict(prev_seq, prev_hash, seq, event_id, problem)


def _ends(last_seq: int, last_hash: str, head: tuple[int, str],
          past_head_id: int | None) -> Verdict:
    """The chain's end against its head: a deleted tail, or events added behind its back."""
    head_seq, head_hash = head
    if last_seq < head_seq:
        gone = "it is" if head_seq == last_seq + 1 else f"it and those after it to #{head_seq} are"
        return Verdict(last_seq, last_hash, last_seq + 1, None,
                       f"{gone} missing (deleted): the chain ends at #{last_seq}, "
                       f"its head at #{head_seq}")
    if last_seq > head_seq and _head()[0] < last_seq:
        # Appends that committed while we read are covered by the head by now; these are not.
        return Verdict(head_seq, head_hash, head_seq + 1, past_head_id,
                       f"it is past the chain's head (#{head_seq}): added behind the "
                       "application's back, or the head was set back")
    return Verdict(last_seq, last_hash)
