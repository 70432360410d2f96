"""Run scenarios and judge them: each in a savepoint rolled back at its end (nothing it
wrote stays: not its staff, its patient, its message, its page, its deliveries), every
``expect`` key checked against what was measured.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from clinicline.drills import calls, leaks, outreach
from clinicline.drills.scenario import Scenario
from clinicline.drills.world import Clock, DrillRefused, World, practice_for
from clinicline.intake.service import call_types_for, scripts_for
from clinicline.triage.service import protocol_for

KINDS: dict[str, Callable[[World, Scenario], dict[str, Any]]] = {
    "call": calls.run_call, "return-call": calls.run_return_call,
    "outreach": outreach.run_outreach}


@dataclass(frozen=True)
class Check:
    key: str
    expected: Any
    measured: Any
    passed: bool


@dataclass
class Report:
    scenario: str
    title: str
    practice: str
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "title": self.title, "practice": self.practice,
                "passed": self.passed, "error": self.error or None,
                "checks": [{"key": c.key, "expected": c.expected, "measured": c.measured,
                            "passed": c.passed} for c in self.checks],
                "timings": self.timings, "notes": self.notes}


def judge(key: str, expected: Any, measured: Any) -> Check:
    """One expectation against its measurement."""
    if key == "first_page_within_s":
        return Check(key, expected, measured, measured is not None and measured <= expected)
    if key == "script_contains":
        heard = " ".join(measured)
        missing = [p for p in expected if p not in heard]
        return Check(key, expected, missing and {"missing": missing} or "all found",
                     not missing)
    if key == "not_visible_to":  # measured: the roles that could open it
        return Check(key, expected, measured and {"visible_to": measured} or "none of them",
                     not measured)
    if key == "withheld_reason":
        return Check(key, expected, measured, bool(measured) and set(measured) == {expected})
    return Check(key, expected, measured, measured == expected)


def secrets_check(world: World, secrets: list[str],
                  baseline: Counter[tuple[str, str]]) -> Check:
    found = [f"{s} sent" for s in leaks.in_sent(world, secrets)] + leaks.added(baseline,
                                                                                secrets)
    return Check("secrets", secrets, found or "none sent, none in plain text", not found)


def run_one(scenario: Scenario, *, practice: str | None,
            baseline: Counter[tuple[str, str]]) -> Report:
    """Run one scenario in a savepoint that is always rolled back."""
    slug = practice or scenario.get("practice")
    report = Report(scenario.name, scenario.get("title", ""), slug)
    started = time.monotonic()
    with transaction.atomic():
        try:
            report.checks = measure(scenario, slug, baseline, report)
        except DrillRefused as exc:  # the scenario asks what the practice cannot do
            report.error = str(exc)
        finally:
            transaction.set_rollback(True)
    report.timings["wall_s"] = round(time.monotonic() - started, 3)
    return report


def measure(scenario: Scenario, slug: str, baseline: Counter[tuple[str, str]],
            report: Report) -> list[Check]:
    practice = practice_for(slug)
    when = dt.datetime.fromisoformat(scenario.get("when")).replace(tzinfo=practice.tz)
    world = World(practice, Clock(when))
    measured = KINDS[scenario.kind](world, scenario)
    checks = [judge(key, expected, measured.get(key)) for key, expected
              in scenario.expect.items() if key != "secrets"]
    if "secrets" in scenario.expect:
        checks.append(secrets_check(world, list(scenario.expect["secrets"]), baseline))
    if measured.get("first_page_within_s") is not None:
        report.timings["first_page_s"] = round(measured["first_page_within_s"], 3)
    report.timings["clock_jumped_s"] = round(world.clock.jumped_s, 1)
    report.notes = world.notes + ([
        f"waits jumped over, not slept: {world.clock.jumps} jumps, "
        f"{world.clock.jumped_s:.0f} s of drill time"] if world.clock.jumps else [])
    return checks


def all_secrets(scenarios: Iterable[Scenario]) -> set[str]:
    return {s for scenario in scenarios for s in scenario.expect.get("secrets", [])}


def configured(slug: str) -> None:
    """The practice's configuration in force written, as its first call writes it (a
    practice that never took a call has the shipped call types, protocol and scripts only
    as defaults): before the baseline, so that their words ("short of breath") count as the
    practice's, not as plain text the drill added."""
    try:
        practice = practice_for(slug)
    except DrillRefused:
        return  # run_one says why
    protocol_for(practice), scripts_for(practice), call_types_for(practice)


def run(scenarios: list[Scenario], *, practice: str | None = None) -> list[Report]:
    """Every scenario, each rolled back; the database is read once first for the secrets'
    baseline (scenarios leave nothing behind, so it holds for each)."""
    for slug in {practice or s.get("practice") for s in scenarios}:
        configured(slug)
    baseline = leaks.stored(all_secrets(scenarios))
    return [run_one(s, practice=practice, baseline=baseline) for s in scenarios]


def text_lines(report: Report) -> list[str]:
    """The report for a person: PASS/FAIL, each expectation with what was measured."""
    head = f"{'PASS' if report.passed else 'FAIL'} {report.scenario}: {report.title}"
    lines = [head + f" (practice {report.practice})"]
    if report.error:
        lines.append(f"  ERROR {report.error}")
    lines += [f"  {'PASS' if c.passed else 'FAIL'} {c.key}: expected {_show(c.expected)}, "
              f"measured {_show(c.measured)}" for c in report.checks]
    lines += [f"  timing {k}: {v}" for k, v in report.timings.items()]
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k} {_show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)
