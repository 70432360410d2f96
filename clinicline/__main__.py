"""The ``clinicline`` command: Django's manage.py under a friendlier name.

Commands may be spelled with hyphens (``clinicline verify-audit``), after ``help`` too.
``clinicline``, ``clinicline help`` and ``clinicline --help`` list clinicline's own
commands first, each with its one-line help, and Django's after them.
"""

from __future__ import annotations

import os
import sys

import django
from django.core.management import execute_from_command_line, get_commands, load_command_class

from clinicline.env import ConfigError

LISTING: tuple[list[str], ...] = ([], ["help"], ["--help"], ["-h"])
SUMMARY_CHARS = 80


def command_name(word: str) -> str:
    """``verify-audit`` is ``verify_audit``; options stay as they are."""
    return word if word.startswith("-") else word.replace("-", "_")


def normalised(argv: list[str]) -> list[str]:
    words = [*argv]
    if len(words) > 1:
        words[1] = command_name(words[1])
    if len(words) > 2 and words[1] == "help":
        words[2] = command_name(words[2])
    return words


def _summary(app: str, name: str) -> str:
    """The first sentence of a command's help, cut to fit one line."""
    text = " ".join(str(load_command_class(app, name).help).split())
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= SUMMARY_CHARS else first[:SUMMARY_CHARS - 1] + "…"


def listing() -> str:
    """clinicline's commands, one line each, then Django's by name."""
    django.setup()
    commands = get_commands()
    own = sorted(n for n, app in commands.items() if app.startswith("clinicline"))
    width = max(len(n) for n in own) + 2 if own else 0
    lines = ["Usage: clinicline <command> [options]", "", "clinicline's commands:"]
    lines += [f"  {n.replace('_', '-'):<{width}}{_summary(commands[n], n)}" for n in own]
    others = sorted(n for n in commands if n not in own)
    lines += ["", "Django's commands: " + ", ".join(others), "",
              "clinicline help <command> shows what a command takes."]
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicline.settings")
    try:
        if sys.argv[1:] in LISTING:
            sys.stdout.write(listing() + "\n")
            return
        execute_from_command_line(normalised(sys.argv))
    except ConfigError as exc:
        sys.exit(f"clinicline: {exc}")


if __name__ == "__main__":
    main()
