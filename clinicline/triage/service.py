"""Triage for a practice: the protocol in force, importing new versions, deciding."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.http import HttpRequest

from clinicline.practices.models import Practice
from clinicline.triage import yamlio
from clinicline.triage.engine import Decision, decide
from clinicline.triage.models import Protocol
from clinicline.triage.spec import ProtocolSpec, compile_protocol

DEFAULT_PROTOCOL = Path(__file__).with_name("default_protocol.yaml")


@functools.cache
def default_source() -> str:
    return DEFAULT_PROTOCOL.read_text(encoding="utf-8")


def default_document() -> dict[str, Any]:
    return yamlio.load(default_source()).data


def protocol_for(practice: Practice) -> Protocol:
    """The protocol in force: the newest version, or version 1 from the default."""
    return Protocol.in_force(practice, lambda: (default_document(), default_source()))


def version_of(practice: Practice, version: int) -> Protocol | None:
    return Protocol.numbered(practice, version)


def parse(text: str) -> tuple[dict[str, Any], ProtocolSpec]:
    """Read and validate a protocol file; raises ProtocolError naming lines."""
    located = yamlio.load(text)
    return located.data, compile_protocol(located)


def import_protocol(practice: Practice, text: str, *, by: Any = None,
                    request: HttpRequest | None = None) -> Protocol:
    """Validate ``text`` and save it as the next version, audited; nothing is saved if it
    is refused."""
    document, _ = parse(text)
    return Protocol.add_version(practice, document, text, what="triage protocol", by=by,
                                request=request)


@dataclass(frozen=True)
class Changes:
    """What adopting a document would change, section by section: ids added, changed (the
    same id, other content) and removed."""

    added: dict[str, list[str]]
    changed: dict[str, list[str]]
    removed: dict[str, list[str]]

    def __bool__(self) -> bool:
        return any(self.added.values()) or any(self.changed.values()) or any(
            self.removed.values())


SECTIONS_BY_ID = ("rules", "red_flags", "questions")


def changes(current: Mapping[str, Any], proposed: Mapping[str, Any]) -> Changes:
    """The rules, red flags and questions ``proposed`` adds, changes and removes against
    ``current`` (and the other sections, as one entry each, where they differ)."""
    added: dict[str, list[str]] = {}
    changed: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for section in SECTIONS_BY_ID:
        old = {str(e.get("id")): e for e in current.get(section) or [] if isinstance(e, dict)}
        new = {str(e.get("id")): e for e in proposed.get(section) or [] if isinstance(e, dict)}
        added[section] = [i for i in new if i not in old]
        changed[section] = [i for i in new if i in old and new[i] != old[i]]
        removed[section] = [i for i in old if i not in new]
    changed["other"] = [name for name in ("name", "terms", "default")
                        if current.get(name) != proposed.get(name)]
    return Changes(added, changed, removed)


def default_changes(practice: Practice) -> Changes:
    """What adopting the shipped default would change in the practice's protocol."""
    return changes(protocol_for(practice).document, default_document())


def adopt_default(practice: Practice, *, by: Any = None,
                  request: HttpRequest | None = None) -> Protocol:
    """The shipped default protocol as the practice's next version (its comments too)."""
    return import_protocol(practice, default_source(), by=by, request=request)


def triage(practice: Practice, call_type: str | None, answers: Mapping[str, bool],
           texts: Iterable[str] = ()) -> Decision:
    """The decision under the protocol in force for this practice."""
    return decide(protocol_for(practice).spec, call_type, answers, texts)
