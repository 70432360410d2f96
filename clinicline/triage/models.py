"""Triage protocols, versioned: a practice's protocol is never edited in place. Importing
a file adds the next version; the newest is in force; every message records the version
it was triaged under, so the older ones are kept for as long as messages refer to them."""

from __future__ import annotations

import functools
import json

from clinicline.practices.versioned import VersionedDocument
from clinicline.triage import yamlio
from clinicline.triage.spec import ProtocolSpec, compile_protocol


class Protocol(VersionedDocument):
    def __str__(self) -> str:
        return f"triage protocol v{self.version}"

    @property
    def spec(self) -> ProtocolSpec:
        """The compiled protocol. Compiling its several hundred patterns (English and
        Spanish, each read for where it can begin) takes a few hundred ms and every
        request loads a fresh row, so compiled protocols are kept by content (a version's
        content never changes; keyed by content, not id, so no stale entry can answer)."""
        return _compiled(json.dumps(self.document, sort_keys=True), self.version)

    def as_yaml(self) -> str:
        return self.source or yamlio.dump(self.document)


@functools.lru_cache(maxsize=64)
def _compiled(document: str, version: int) -> ProtocolSpec:
    return compile_protocol(json.loads(document), version)
