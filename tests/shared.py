"""Where the shared reference data is: ``shared/`` beside the checkout, as in CI
(``CLINICLINE_SHARED`` overrides it)."""

import os
from pathlib import Path

SHARED = Path(os.environ.get("CLINICLINE_SHARED")
              or Path(__file__).resolve().parents[1].parent / "shared")
SCENARIOS = SHARED / "scenarios"
DATA = SHARED / "data"
