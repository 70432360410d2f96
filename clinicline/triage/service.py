"""Triage for a practice: the protocol in force, importing new versions, deciding."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
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


def triage(practice: Practice, call_type: str | None, answers: Mapping[str, bool],
           texts: Iterable[str] = ()) -> Decision:
    """The decision under the protocol in force for this practice."""
    return decide(protocol_for(practice).spec, call_type, answers, texts)
