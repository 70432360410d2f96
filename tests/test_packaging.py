"""The package's own metadata builds without deprecation warnings (setuptools warns about a
license written as a table, and will refuse it)."""

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_not_a_table():
    project = tomllib.loads(PYPROJECT.read_text())
    assert isinstance(project["project"]["license"], str)
    requires = project["build-system"]["requires"]
    assert any(r.startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77
               for r in requires)  # the first setuptools that reads an SPDX expression
