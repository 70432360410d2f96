"""Call types for a practice: the set in force, uploading new versions, and handing what a
call left under one of them to the inbox (``take_message``)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.http import HttpRequest

from clinicline import safe_yaml
from clinicline.inbox.models import Message
from clinicline.inbox.service import Taken, open_message
from clinicline.intake import scripts
from clinicline.intake.models import CallTypeSet, ScriptSet
from clinicline.intake.spec import CallType, CallTypeError, parse_document, to_document
from clinicline.oncall import pages
from clinicline.practices.models import Practice

DEFAULT_CALL_TYPES = Path(__file__).with_name("default_call_types.yaml")
MAX_CHARS = 64 * 1024  # a page of call types, not a data set
FREE_TEXT_KINDS = ("text", "longtext")


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


def script_set_for(practice: Practice, version: int = 0) -> ScriptSet:
    """Version ``version`` of the practice's scripts if it names one (a call goes on in the
    words it began in), else the one in force (version 1 from the defaults)."""
    chosen = ScriptSet.numbered(practice, version) if version else None
    # A copy: the shipped words are parsed once for the process, and a set's document is
    # the caller's to change (the scripts page edits it) without changing them.
    return chosen or ScriptSet.in_force(
        practice, lambda: (copy.deepcopy(scripts.default_document()), scripts.default_source()))


def scripts_for(practice: Practice, language: str = "en", version: int = 0) -> scripts.Scripts:
    """The practice's scripts (``script_set_for``) in ``language``."""
    return script_set_for(practice, version).scripts(language)


def import_scripts(practice: Practice, text: str, *, by: Any = None,
                   request: HttpRequest | None = None) -> ScriptSet:
    """Check ``text`` and save it as the next version, audited; nothing is saved if it is
    refused (``scripts.ScriptError``, each problem with its line)."""
    return ScriptSet.add_version(practice, scripts.parse(text), text, what="scripts", by=by,
                                 request=request)


def as_taken(call_type: CallType, fields: Mapping[str, Any], **details: Any) -> Taken:
    """What a call left under ``call_type``, as the inbox takes it: only the call type's
    fields (anything else is dropped), and which of them are the caller's own words."""
    allowed = set(call_type.field_names())
    return Taken(call_type=call_type.slug, call_type_version=call_type.version,
                 clinical=call_type.clinical,
                 fields={k: v for k, v in fields.items() if k in allowed},
                 free_text_fields=tuple(f.name for f in call_type.fields
                                        if f.kind in FREE_TEXT_KINDS), **details)


def take_message(practice: Practice, call_type: CallType, fields: Mapping[str, Any], *,
                 taken_by: Any = None, request: HttpRequest | None = None,
                 **details: Any) -> Message:
    """Open the inbox message for what a call, voicemail or text left (``Taken``'s
    ``details``: source, answers, caller_number, call_sid, floor, said, …), and its page
    when its priority needs one."""
    details.setdefault("scripts_version", scripts_for(practice).version)
    message = open_message(practice, as_taken(call_type, fields, **details),
                           taken_by=taken_by, request=request)
    pages.open_for(message, now=details.get("at"))  # the call's moment, if it names one
    return message
