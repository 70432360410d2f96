"""The PHI guard: what a text headed to a non-secure channel must not carry (the
recipient's identifiers, HIPAA's identifier kinds, person names, clinical content).
Offline and model-free; it imports no app, so the outbox's last screen and outreach's
sending decision share one guard.

    verdict = phiguard.check(text, recipient=Recipient(name="Walter Okafor", ...),
                             allowed_numbers=["+16175550100"], link_host="clinic.example.org",
                             practice_name="Riverside Family Medicine",
                             allowed_names=["Amara Osei"])
    verdict.allowed, verdict.findings   # (Finding(start, end, type, category), ...)

What the caller vouches for is allowed: the practice's own numbers (and the public crisis
numbers), links to our secure-link host, the practice's name and its providers' (and
staff's) names. Dates: by default any date blocks. ``allow_dates`` lets through a date
with no year (an appointment's "Thu Dec 10", a schedule's "Tue 14 Apr 18:00", "next
Monday") and a year of this century alone ("in 2026"): a date with a year, a 19xx year, or
the recipient's own birthday, still blocks. ``allowed_spans`` are offsets where the caller
placed a typed slot (an appointment time): nothing found inside one blocks, except the
recipient's own identifiers.
"""

from __future__ import annotations

from clinicline.phiguard.guard import Finding, Verdict, check
from clinicline.phiguard.recipient import Recipient

__all__ = ["Finding", "Recipient", "Verdict", "check"]
