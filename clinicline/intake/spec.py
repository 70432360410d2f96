"""Call types as data: what an agent may collect for each kind of call, and nothing more.

A document is ``{"call_types": [{"slug", "label", "fields": [...]}, ...]}``; each field has
a ``name``, ``label``, ``kind``, ``required``, ``help_text`` and ``phi``, plus ``choices``
for a choice and ``past`` for a date that cannot be in the future (a birth date).

The document says what its call types mean, so no code tests their slugs: ``clinical:
true`` marks a call type whose content is clinical (only clinical staff open its messages;
the IVR's urgent line takes the first one), and exactly one call type is ``general: true``
(texts, and voicemails left without a choice, are taken under it).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

KINDS = ("text", "longtext", "date", "phone", "number", "choice")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TYPE_KEYS = {"slug", "label", "fields", "clinical", "general"}
FIELD_KEYS = {"name", "label", "kind", "required", "help_text", "phi", "choices", "past"}


class CallTypeError(ValueError):
    """A call-type document that may not be used; ``problems`` says what to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str
    required: bool = True
    help_text: str = ""
    phi: bool = True
    choices: tuple[str, ...] = ()
    past: bool = False


@dataclass(frozen=True)
class CallType:
    slug: str
    label: str
    fields: tuple[FieldSpec, ...]
    version: int = 0
    clinical: bool = False
    general: bool = False

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def parse_document(data: Any, version: int = 0) -> list[CallType]:
    """Validate a document; raises CallTypeError listing every problem found."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("call_types"), list):
        raise CallTypeError(["the document must be a mapping with a list under call_types"])
    unknown = set(data) - {"call_types"}
    if unknown:
        problems.append(f"unknown key(s) at the top: {', '.join(sorted(map(str, unknown)))}")
    types: list[CallType] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["call_types"], start=1):
        call_type = _call_type(entry, f"call type {i}", problems)
        if call_type is None:
            continue
        if call_type.slug in seen:
            problems.append(f"call type {i}: duplicate slug {call_type.slug!r}")
        seen.add(call_type.slug)
        types.append(dataclasses.replace(call_type, version=version))
    if not data["call_types"]:
        problems.append("there must be at least one call type")
    elif types and not problems:
        problems += _meanings(types)
    if problems:
        raise CallTypeError(problems)
    return types


def _meanings(types: list[CallType]) -> list[str]:
    problems = []
    if not any(t.clinical for t in types):
        problems.append("no call type is marked clinical: true (the IVR's urgent line "
                        "takes its messages under the first one)")
    general = [t.slug for t in types if t.general]
    if len(general) != 1:
        problems.append("exactly one call type must be marked general: true (texts and "
                        f"voicemails left without a choice go there); found {len(general)}")
    return problems


def _call_type(entry: Any, where: str, problems: list[str]) -> CallType | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    slug = entry.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.append(f"{where}: missing or invalid slug (lower-case letters, digits, -)")
        return None
    where = f"call type {slug!r}"
    unknown = set(entry) - TYPE_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    raw_fields = entry.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append(f"{where}: fields must be a non-empty list")
        return None
    fields: list[FieldSpec] = []
    names: set[str] = set()
    for j, raw in enumerate(raw_fields, start=1):
        spec = _field(raw, f"{where}, field {j}", problems)
        if spec is None:
            continue
        if spec.name in names:
            problems.append(f"{where}: duplicate field {spec.name!r}")
        names.add(spec.name)
        fields.append(spec)
    for flag in ("clinical", "general"):
        if flag in entry and not isinstance(entry[flag], bool):
            problems.append(f"{where}: {flag} must be true or false")
    label = entry.get("label") or slug.replace("-", " ").capitalize()
    return CallType(slug, str(label), tuple(fields), clinical=entry.get("clinical") is True,
                    general=entry.get("general") is True)


def _field(raw: Any, where: str, problems: list[str]) -> FieldSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(f"{where}: missing or invalid name (lower_case_with_underscores)")
        return None
    where = f"{where} ({name})"
    unknown = set(raw) - FIELD_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    kind = raw.get("kind", "text")
    if kind not in KINDS:
        problems.append(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        return None
    for flag in ("required", "phi", "past"):
        if flag in raw and not isinstance(raw[flag], bool):
            problems.append(f"{where}: {flag} must be true or false")
    choices = raw.get("choices", [])
    if kind == "choice" and (not isinstance(choices, list) or not choices
                             or not all(isinstance(c, str) for c in choices)):
        problems.append(f"{where}: a choice needs a non-empty list of choices")
        return None
    return FieldSpec(name=name, label=str(raw.get("label") or name.replace("_", " ").capitalize()),
                     kind=kind, required=raw.get("required", True) is not False,
                     help_text=str(raw.get("help_text", "")), phi=raw.get("phi", True) is not False,
                     choices=tuple(choices) if kind == "choice" else (),
                     past=raw.get("past", False) is True)


def to_document(types: list[CallType]) -> dict[str, Any]:
    """Plain JSON data for ``types`` (what is stored: YAML may hold dates, JSON may not)."""
    return {"call_types": [
        {"slug": t.slug, "label": t.label,
         **({"clinical": True} if t.clinical else {}),
         **({"general": True} if t.general else {}),
         "fields": [
            {"name": f.name, "label": f.label, "kind": f.kind, "required": f.required,
             "help_text": f.help_text, "phi": f.phi,
             **({"choices": list(f.choices)} if f.kind == "choice" else {}),
             **({"past": True} if f.past else {})}
            for f in t.fields]}
        for t in types]}
