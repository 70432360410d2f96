"""Canonical form and hashing of audit events, shared by append and verify.

An event's canonical text is its hashed columns as text, joined by the ASCII unit separator
(U+001F): ``None`` is the empty string (only the integer columns may be null, and an integer
is never empty), and ``at`` is UTC with all six microsecond digits. ``record()`` removes the
separator from every value, so an honest text has exactly one separator fewer than there are
columns and no two events can share a text.

The databases can render the same text themselves (``canonical_sql``); verification asks
them to, so Python only hashes: converting 200,000 timestamps to ``datetime`` and back costs
more than hashing them. Tests hold the Python and SQL renderings to each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

GENESIS = "0" * 64
SEP = "\x1f"

# The columns that are hashed, in order. Everything but the hashes themselves.
HASHED = ("seq", "at", "actor_id", "actor_label", "practice_id", "action", "object_type",
          "object_id", "patient_id", "fields", "ip", "user_agent", "reason", "outcome")
NULLABLE = frozenset({"actor_id", "practice_id"})

# What no stored value may contain: the separator, and NUL (PostgreSQL refuses it in text).
_FORBIDDEN = str.maketrans({SEP: " ", "\x00": None})


def clean(text: str) -> str:
    return text.translate(_FORBIDDEN)


def canonical_time(value: dt.datetime) -> str:
    """UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``. A naive value is taken as UTC: that is how
    Django stores and returns datetimes with USE_TZ on SQLite."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ", timespec="microseconds")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return canonical_time(value)
    return str(value)


def canonical(values: Iterable[object]) -> str:
    """The canonical text of one event's values, in ``HASHED`` order."""
    return SEP.join(map(_text, values))


def digest(prev_hash: str, text: str) -> str:
    return hashlib.sha256(f"{prev_hash}{SEP}{text}".encode()).hexdigest()


def link(prev_hash: str, values: Iterable[object]) -> str:
    """Hash of one event: its predecessor's hash and its canonical text."""
    return digest(prev_hash, canonical(values))


def hashed_values(event: Any) -> list[object]:
    return [getattr(event, name) for name in HASHED]


# How each database renders ``at`` and the separator. SQLite keeps what Django wrote,
# ``str()`` of a naive UTC datetime, which leaves out the fraction when it is zero.
_SQL: dict[str, tuple[str, str]] = {
    "sqlite": ("char(31)", "CASE WHEN length({at}) = 19 THEN {at} || '.000000' ELSE {at} END"),
    "postgresql": ("chr(31)", "to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"),
}


def canonical_sql(vendor: str, quote: Callable[[str], str]) -> str:
    """A SQL expression giving each row's canonical text, the same as ``canonical()``."""
    if vendor not in _SQL:
        raise NotImplementedError(f"audit verification supports SQLite and PostgreSQL, "
                                  f"not {vendor}")
    sep, at = _SQL[vendor]
    parts = []
    for name in HASHED:
        column = quote(name)
        if name == "at":
            parts.append(at.format(at=column))
        elif name in NULLABLE:
            parts.append(f"COALESCE(CAST({column} AS TEXT), '')")
        elif name == "seq":
            parts.append(f"CAST({column} AS TEXT)")
        else:
            parts.append(column)
    return f" || {sep} || ".join(parts)
