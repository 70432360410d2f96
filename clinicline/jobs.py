"""Every job the worker runs, in one list a reader can see (healthchecks' ``sendalerts``
names its work the same way): what it is, how often it looks for due rows, and its lane.

Each job is a function of its own app that claims its due rows through
``clinicline.claims.claim_due``, does one step for each, and returns how many it handled.
"""

from __future__ import annotations

from clinicline.accounts.jobs import delete_expired_sessions
from clinicline.gateways.recordings import fetch_due
from clinicline.gateways.status import retry_early_statuses
from clinicline.inbox.notify import announce_all
from clinicline.intake.texts import handle_texts
from clinicline.intake.transcribe import transcribe_due
from clinicline.oncall import coverage, pages
from clinicline.outbox.jobs import requeue_stuck, send_due
from clinicline.outreach import decisions, reminders
from clinicline.practices import voice_fallback
from clinicline.worker import FAST, SLOW, Job

JOBS: tuple[Job, ...] = (
    # Fast lane: each pass is milliseconds, so a text or a page never waits long. A page's
    # step and its texts are looked for four times a second (an indexed query each when
    # nothing is due), and on PostgreSQL at once when a page opens or a text is queued
    # for now (``wakes``: LISTEN/NOTIFY, clinicline.wake), whatever the poll.
    Job("pages", pages.run_due, every_s=0.25, lane=FAST, wakes=True),
    Job("page-bundles", pages.send_bundles, every_s=0.25, lane=FAST),
    Job("outbox", send_due, every_s=0.25, lane=FAST, wakes=True),
    Job("page-sweep", pages.sweep, every_s=15, lane=FAST),
    Job("page-follow-up", pages.follow_up, every_s=15, lane=FAST),
    Job("texts", handle_texts, every_s=2, lane=FAST),
    Job("status-callbacks", retry_early_statuses, every_s=5, lane=FAST),
    Job("inbox-notify", announce_all, every_s=30, lane=FAST),
    Job("outbox-stuck", requeue_stuck, every_s=60, lane=FAST),
    # Appointment reminders whose time has come, and "send due reminders now" runs, a
    # batch a pass so that a run of thousands never holds the lane for long.
    Job("reminders", reminders.send_due, every_s=5, lane=FAST),
    Job("reminder-runs", reminders.advance_runs, every_s=1, lane=FAST),
    # Messages deferred by quiet hours, decided again (every check anew) when due.
    Job("outreach-deferred", decisions.send_deferred, every_s=30, lane=FAST),
    Job("expired-sessions", delete_expired_sessions, every_s=3600, lane=FAST),
    # What the voice webhook answers when the database cannot (a local file).
    Job("voice-fallback", voice_fallback.refresh, every_s=300, lane=FAST),
    # Slow lane: a carrier fetch or a decode can take seconds.
    Job("recordings", fetch_due, every_s=5, lane=SLOW),
    Job("transcribe", transcribe_due, every_s=5, lane=SLOW),
    # Coverage gaps and unreachable on-call members, mailed to each practice's admins once
    # a local day; reading 14 days of every practice's schedules can take seconds.
    Job("coverage-mail", coverage.mail_all, every_s=3600, lane=SLOW),
)


def job(name: str) -> Job:
    """The job called ``name``, as a fresh copy (a test's runs keep their own timer)."""
    found = next(j for j in JOBS if j.name == name)
    return Job(found.name, found.run, found.every_s, lane=found.lane, wakes=found.wakes)
