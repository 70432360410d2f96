"""Call types for a practice: the set in force, and uploading new versions."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.http import HttpRequest

from clinicline import safe_yaml
from clinicline.intake.models import CallTypeSet
from clinicline.intake.spec import CallTypeError, parse_document, to_document
from clinicline.practices.models import Practice

DEFAULT_CALL_TYPES = Path(__file__).with_name("default_call_types.yaml")
MAX_CHARS = 64 * 1024  # a page of call types, not a data set


@functools.cache
def default_source() -> str:
    return DEFAULT_CALL_TYPES.read_text(encoding="utf-8")


def default_document() -> dict[str, Any]:
    return parse(default_source())


def call_types_for(practice: Practice) -> CallTypeSet:
    """The call types in force: the newest version, or version 1 from the defaults."""
    return CallTypeSet.in_force(practice, lambda: (default_document(), default_source()))


def version_of(practice: Practice, version: int) -> CallTypeSet | None:
    return CallTypeSet.numbered(practice, version)


def parse(text: str) -> dict[str, Any]:
    """Read a JSON or YAML file (JSON is YAML) and validate it; raises CallTypeError."""
    try:
        data = safe_yaml.load(text, max_chars=MAX_CHARS)
    except safe_yaml.Refused as exc:
        raise CallTypeError([_problem(p) for p in exc.problems]) from None
    return to_document(parse_document(data))


def _problem(problem: safe_yaml.Problem) -> str:
    # JSON is YAML, so a file that is neither is named as both.
    message = problem.message.replace("not valid YAML", "the file is not valid JSON or YAML", 1)
    return str(safe_yaml.Problem(problem.line, message))


def import_call_types(practice: Practice, text: str, *, by: Any = None,
                      request: HttpRequest | None = None) -> CallTypeSet:
    """Validate ``text`` and save it as the next version, audited; nothing is saved if it
    is refused."""
    return CallTypeSet.add_version(practice, parse(text), text, what="call types", by=by,
                                   request=request)
