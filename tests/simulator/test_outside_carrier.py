"""The simulator is an outside carrier: it knows our webhooks only by their URLs and the
TwiML they answer, never by their code, so the webhooks can be rewritten beneath it."""

from __future__ import annotations

import ast
from pathlib import Path

import clinicline.simulator

FORBIDDEN = ("clinicline.gateways.webhooks", "clinicline.gateways.handlers",
             "clinicline.gateways.webhook_urls", "clinicline.intake")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_simulator_imports_no_webhook_or_intake_code():
    folder = Path(clinicline.simulator.__file__).parent
    sources = sorted(folder.rglob("*.py"))
    assert len(sources) > 8
    leaks = {f"{path.relative_to(folder)}: {name}" for path in sources
             for name in imported_modules(path)
             if name.startswith(FORBIDDEN)}
    assert leaks == set()
    # A positive control: the scan sees the imports that are there.
    assert "clinicline.practices.models.GatewayAccount" in imported_modules(folder / "carrier.py")
