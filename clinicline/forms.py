"""Form fields for what people type that the database must hold: ids and dates.

An id from a form is ASCII digits within the range of a database key. ``str.isdigit()`` is
not that test: "²" passes it and fails ``int()``, "١٢" passes both, and twenty nines pass
both and overflow a PostgreSQL ``bigint``. A date from a form lies between ``MIN_DAY`` and
``MAX_DAY``, so a filter may add a day to it, or turn it into a zoned midnight, without
leaving the calendar that ``datetime`` and the database share.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

KEY_MAX = 2**63 - 1  # BigAutoField, the key of every table, on PostgreSQL and SQLite
MIN_DAY = dt.date(1900, 1, 1)
MAX_DAY = dt.date(2999, 12, 31)


def parse_id(value: object, *, max_value: int = KEY_MAX) -> int | None:
    """``value`` as a database id (1 up to ``max_value``), or None if it is not one."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(max_value)):
        return None
    number = int(text)
    return number if 1 <= number <= max_value else None


class DayField(forms.DateField):
    """A calendar day, YYYY-MM-DD, between ``MIN_DAY`` and ``MAX_DAY``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": "Enter a date as YYYY-MM-DD."})
        super().__init__(input_formats=["%Y-%m-%d"], **kwargs)
        self.validators += [
            MinValueValidator(MIN_DAY, f"Enter a date from {MIN_DAY:%Y-%m-%d} on."),
            MaxValueValidator(MAX_DAY, f"Enter a date up to {MAX_DAY:%Y-%m-%d}."),
        ]
        self.widget.attrs.update(min=MIN_DAY.isoformat(), max=MAX_DAY.isoformat())
