"""The ``clinicline`` command: Django's manage.py under a friendlier name.

Commands may be spelled with hyphens (``clinicline verify-audit``).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicline.settings")
    from django.core.management import execute_from_command_line

    from clinicline.env import ConfigError

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    try:
        execute_from_command_line(argv)
    except ConfigError as exc:
        sys.exit(f"clinicline: {exc}")


if __name__ == "__main__":
    main()
