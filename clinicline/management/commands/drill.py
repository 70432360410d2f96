import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicline.drills import runner
from clinicline.drills.scenario import Scenario, ScenarioError, folder, load
from clinicline.drills.world import DrillRefused, practice_for

INVALID = 2  # a file that is not a scenario, no scenarios, or a practice a drill refuses


class Command(BaseCommand):
    help = ("Run drill scenarios through the real pipeline, each rolled back at its end, "
            "and report every expectation (exit 0 only if all pass).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", action="append", type=Path, default=[],
                            help="a scenario file (repeatable); default: every shared one")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="one JSON object per scenario")
        parser.add_argument("--practice", help="drill in this practice instead of the file's")

    def handle(self, *args: Any, file: list[Path], as_json: bool, practice: str | None,
               **options: Any) -> None:
        scenarios = read(file or shared_files())
        try:
            for slug in {practice or s.get("practice") for s in scenarios}:
                practice_for(slug)
        except DrillRefused as exc:
            raise CommandError(str(exc), returncode=INVALID) from None
        reports = runner.run(scenarios, practice=practice)
        for report in reports:
            self.stdout.write(dumps(report) if as_json else "\n".join(runner.text_lines(report)))
        failed = [r.scenario for r in reports if not r.passed]
        if failed:
            raise CommandError(f"{len(failed)} of {len(reports)} drills failed: "
                               + ", ".join(failed), returncode=1)


def dumps(report: runner.Report) -> str:
    return json.dumps(report.as_json(), default=str, sort_keys=True)


def shared_files() -> list[Path]:
    scenarios = Path(settings.SHARED_DIR) / "scenarios"
    if not scenarios.is_dir():
        raise CommandError(f"no scenarios folder at {scenarios} (set CLINICLINE_SHARED to the "
                           "shared folder, or name files with --file)", returncode=INVALID)
    found = folder(scenarios)
    if not found:
        raise CommandError(f"no scenario files (*.yaml) in {scenarios}", returncode=INVALID)
    return found


def read(paths: list[Path]) -> list[Scenario]:
    try:
        return [load(path) for path in paths]
    except ScenarioError as exc:
        raise CommandError(str(exc), returncode=INVALID) from None
