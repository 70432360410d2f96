"""Call types, versioned like triage protocols: never edited in place; an upload adds the
next version, the newest is in force, and every message records the version it was taken
under, so older versions are kept."""

from __future__ import annotations

import functools
import json

from clinicline.intake.spec import CallType, parse_document
from clinicline.practices.versioned import VersionedDocument


class CallTypeSet(VersionedDocument):
    def __str__(self) -> str:
        return f"call types v{self.version}"

    @property
    def call_types(self) -> tuple[CallType, ...]:
        return _parsed(json.dumps(self.document, sort_keys=True), self.version)

    def get(self, slug: str) -> CallType | None:
        return next((t for t in self.call_types if t.slug == slug), None)


@functools.lru_cache(maxsize=64)
def _parsed(document: str, version: int) -> tuple[CallType, ...]:
    # Keyed by content, not id: a version's content never changes, so no entry goes stale.
    return tuple(parse_document(json.loads(document), version))
