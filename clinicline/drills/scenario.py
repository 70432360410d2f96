"""A drill scenario file (shared/scenarios/README.md's format), read and checked.

Every key is known and typed: an unknown key, a wrong type or a missing one is a
``ScenarioError`` naming the file and the key, never a traceback. YAML is read by the one
loader for uploads (``safe_yaml``): plain data only, bounded in size and depth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinicline import safe_yaml
from clinicline.accounts.roles import Role

MAX_CHARS = 64 * 1024  # a scenario is a page, not a data set
KINDS = ("call", "return-call", "outreach")
CALL_CHANNELS = ("agent", "ivr", "sms")
PRIORITIES = ("emergency", "urgent", "routine")
WITHHELD_REASONS = ("no-consent", "opted-out", "quiet-hours", "phi", "unverified-contact")
OUTREACH_PURPOSES = ("results", "appointment-reminder")
OUTREACH_CHANNELS = ("sms", "voice")


class ScenarioError(ValueError):
    """A file that is not a scenario: which file, which key, and what is wrong."""

    def __init__(self, path: Path | str, key: str, message: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda value: value in choices


def _local_time(value: Any) -> bool:
    try:
        return isinstance(value, str) and dt.datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def _date(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _flags(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, bool)
                                           for k, v in value.items())


def _fields(value: Any) -> bool:
    plain = (str, int, float, bool)
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, plain)
                                           for k, v in value.items())


# key: (what it must be, in words; the check)
Rule = tuple[str, Callable[[Any], bool]]
TOP: dict[str, Rule] = {
    "name": ("a slug", lambda v: _text(v) and v.replace("-", "").isalnum()),
    "title": ("one line of text", _text),
    "kind": (" or ".join(KINDS), _one_of(KINDS)),
    "practice": ("a practice's slug", _text),
    "when": ("a local time such as \"2026-12-05T02:10\"", _local_time),
    "channel": (" or ".join(CALL_CHANNELS), _one_of(CALL_CHANNELS)),
    "caller_number": ("a phone number in quotes", _text),
    "call_type": ("a call type's slug", _text),
    "answers": ("question ids answered true or false", _flags),
    "fields": ("field names with plain values", _fields),
    "provider_acks_after_s": ("whole seconds, or null", lambda v: v is None or (
        _is_int(v) and 0 <= v <= 86400)),
    "identity": ("a mapping", lambda v: isinstance(v, dict)),
    "request": ("a mapping", lambda v: isinstance(v, dict)),
    "request_from_caller": ("text", _text),
    "replies": ("a list of texts", _strings),
    "expect": ("a mapping", lambda v: isinstance(v, dict)),
}
REQUIRED = {"call": ("channel", "call_type", "fields"), "return-call": ("identity",),
            "outreach": ("request",)}
IDENTITY: dict[str, Rule] = {
    "name_given": ("a given and a family name", lambda v: _text(v) and len(v.split()) >= 2),
    "date_of_birth_given": ("a date such as \"1958-04-02\"", _date),
    "phone_given": ("a phone number in quotes", _text),
    "mrn_given": ("a record number", _text),
}
REQUEST: dict[str, Rule] = {
    "patient_name": ("a given and a family name", lambda v: _text(v) and len(v.split()) >= 2),
    "date_of_birth": ("a date such as \"1971-11-19\"", _date),
    "channel": (" or ".join(OUTREACH_CHANNELS), _one_of(OUTREACH_CHANNELS)),
    "purpose": (" or ".join(OUTREACH_PURPOSES), _one_of(OUTREACH_PURPOSES)),
    "provider": ("a provider's display name", _text),
    "appointment_at": ("a local time", _local_time),
    "second_reminder_at": ("a local time", _local_time),
    "patient_answers_call": ("true or false", lambda v: isinstance(v, bool)),
    "patient_consents_to_voicemail": ("true or false", lambda v: isinstance(v, bool)),
    "patient_consents_to_sms": ("true or false", lambda v: isinstance(v, bool)),
}
EXPECT: dict[str, Rule] = {
    "priority": (" or ".join(PRIORITIES), _one_of(PRIORITIES)),
    "advise_emergency_services": ("true or false", lambda v: isinstance(v, bool)),
    "escalated": ("true or false", lambda v: isinstance(v, bool)),
    "first_page_within_s": ("a number of seconds", lambda v: _is_number(v) and v >= 0),
    "alarm_if_no_ack": ("true or false", lambda v: isinstance(v, bool)),
    "routed_to": ("a team's slug", _text),
    "not_visible_to": ("a list of roles (" + ", ".join(Role.values) + ")",
                       lambda v: _strings(v) and set(v) <= set(Role.values)),
    "disclosed": ("true or false", lambda v: isinstance(v, bool)),
    "script_contains": ("a list of phrases", _strings),
    "sent": ("a whole number", lambda v: _is_int(v) and v >= 0),
    "withheld": ("a whole number", lambda v: _is_int(v) and v >= 0),
    "withheld_reason": (" or ".join(WITHHELD_REASONS), _one_of(WITHHELD_REASONS)),
    "secrets": ("a list of strings", _strings),
}
REQUEST_NEEDS = {"appointment-reminder": ("appointment_at", "provider")}


@dataclass(frozen=True)
class Scenario:
    path: str
    data: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def expect(self) -> Mapping[str, Any]:
        return self.data["expect"]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _check(path: Path | str, prefix: str, data: Mapping[Any, Any],
           rules: Mapping[str, Rule]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if not isinstance(key, str) or key not in rules:
            raise ScenarioError(path, str(name), "unknown key (known: "
                                + ", ".join(rules) + ")")
        what, ok = rules[key]
        if not ok(value):
            raise ScenarioError(path, name, f"must be {what}")


def parse(text: str, path: Path | str = "<scenario>") -> Scenario:
    """Read one scenario; raises ``ScenarioError``."""
    try:
        data = safe_yaml.load(text, max_chars=MAX_CHARS)
    except safe_yaml.Refused as exc:
        raise ScenarioError(path, "", "; ".join(str(p) for p in exc.problems)) from None
    if not isinstance(data, dict):
        raise ScenarioError(path, "", "a scenario is a mapping of keys (name, kind, …)")
    _check(path, "", data, TOP)
    if "kind" not in data:
        raise ScenarioError(path, "kind", "missing")
    for key in ("name", "practice", "when", "expect", *REQUIRED[data["kind"]]):
        if key not in data:
            raise ScenarioError(path, key, "missing")
    _check(path, "identity.", data.get("identity", {}), IDENTITY)
    _check(path, "request.", data.get("request", {}), REQUEST)
    _check(path, "expect.", data["expect"], EXPECT)
    _check_request(path, data)
    return Scenario(str(path), data)


def _check_request(path: Path | str, data: Mapping[str, Any]) -> None:
    if data["kind"] == "return-call" and not {"name_given", "date_of_birth_given"} <= set(
            data["identity"]):
        raise ScenarioError(path, "identity", "needs name_given and date_of_birth_given")
    if data["kind"] != "outreach":
        return
    request = data["request"]
    for key in ("patient_name", "channel", "purpose",
                *REQUEST_NEEDS.get(request.get("purpose", ""), ())):
        if key not in request:
            raise ScenarioError(path, f"request.{key}", "missing")
    if request["purpose"] == "appointment-reminder" and request["channel"] != "sms":
        raise ScenarioError(path, "request.channel", "appointment reminders are drilled by sms")


def load(path: Path) -> Scenario:
    """Read the scenario at ``path``; raises ``ScenarioError`` (also for a file that cannot
    be read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot be read ({type(exc).__name__})") from None
    return parse(text, path)


def folder(directory: Path) -> list[Path]:
    """The scenario files of a folder, by name."""
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())
