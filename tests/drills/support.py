"""A shared scenario run by the drill runner's own ``measure``, for the tests of the apps it
drills: judged against its YAML, and its rows left for the test to read (the test's own
transaction rolls them back, as ``clinicline drill`` rolls back each scenario)."""

from __future__ import annotations

from typing import Any

import yaml

from clinicline.drills import leaks, runner
from clinicline.drills.scenario import parse
from clinicline.practices.models import Practice
from tests.shared import SCENARIOS


def drill(name: str, practice: Practice, **changes: Any) -> runner.Report:
    """The shared scenario ``name`` run in ``practice`` (``--practice``), with the top-level
    keys in ``changes`` replaced."""
    path = SCENARIOS / f"{name}.yaml"
    document = {**yaml.safe_load(path.read_text(encoding="utf-8")), **changes}
    scenario = parse(yaml.safe_dump(document), path)
    report = runner.Report(scenario.name, scenario.get("title", ""), practice.slug)
    runner.configured(practice.slug)  # as ``runner.run`` does before its baseline
    baseline = leaks.stored(runner.all_secrets([scenario]))
    report.checks = runner.measure(scenario, practice.slug, baseline, report)
    return report


def measured(report: runner.Report) -> dict[str, Any]:
    """What the drill measured, by expectation key."""
    return {check.key: check.measured for check in report.checks}


def failed(report: runner.Report) -> list[runner.Check]:
    return [check for check in report.checks if not check.passed]
