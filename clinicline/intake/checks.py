"""System check: the PDF binder's font is installed (fonts-dejavu-core), so the download
cannot fail at the desk on the day it is needed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.core import checks

from clinicline.intake.binder_pdf import FONT_FILES


def font_errors(paths: Iterable[Path]) -> list[checks.CheckMessage]:
    missing = [str(path) for path in paths if not path.is_file()]
    if not missing:
        return []
    return [checks.Error(f"the script binder's font is missing: {', '.join(missing)}",
                         hint="install the Debian package fonts-dejavu-core (make deps)",
                         id="intake.E001")]


@checks.register()
def check_binder_fonts(app_configs: Sequence[AppConfig] | None = None,
                       **kwargs: Any) -> list[checks.CheckMessage]:
    return font_errors(FONT_FILES.values())
