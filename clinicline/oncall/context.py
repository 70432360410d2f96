"""The alarm banner (on every page of a practice, its pages nobody acknowledged) and who
is on call now (on the console and the inbox)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from clinicline.oncall import pages


def alarms(request: HttpRequest) -> dict[str, Any]:
    """Looked up only when a template shows it, and only inside a practice."""
    practice = getattr(request, "practice", None)
    if practice is None:
        return {}
    return {"oncall_alarms": SimpleLazyObject(lambda: pages.alarmed(practice)),
            "oncall_now": SimpleLazyObject(lambda: pages.on_call_now(practice))}
