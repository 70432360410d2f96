"""Benchmark: how fast an urgent message pages, and how punctual its next step is.

Seeds 100 practices (a provider and a manager each, with verified numbers, and a policy:
the provider, wait 10 s, then the manager), starts real ``clinicline worker`` processes
(two on PostgreSQL, one on SQLite, which serialises writers), and opens urgent messages
across the practices at a steady rate. Measured from the database afterwards:

- ``first_page_*``: message saved -> its first text handed to the gateway (the phone
  simulator's loopback carrier, so no network is measured); target p99 <= 1 s. A text that
  joined its number's bundle (another page texted that number within the minute) waits
  for the minute's end by design: those are counted apart (``bundled``, ``bundled_p99_s``);
- ``step_lateness_*``: how late each second step ran after its 10 s wait; target p99 <= 1 s;
- ``baseline_*``: the same outbox, the same workers, in the same run: a plain text
  enqueued -> handed to the gateway. ``ratio`` is first-page p99 over the baseline's p99:
  what paging adds to sending;
- ``poll_s``: the workers' poll (``--poll``, default theirs, 0.2 s). With a long poll the
  first page still leaves at once on PostgreSQL (LISTEN/NOTIFY wakes a worker), and only
  at the next poll on SQLite; a step due by its timer runs at the poll either way;
- ``pages``, ``lost`` (pages neither acknowledged nor alarmed at the end; must be 0) and
  ``duplicates`` (a step notifying one member twice on one channel; must be 0).

    .venv/bin/python bench/escalation.py [--quick] [--poll SECONDS]

``--quick`` opens fewer messages and finishes within 3 minutes. The database is a
temporary SQLite file, or a fresh database on the PostgreSQL server DATABASE_URL names
(dropped at the end). Prints human lines, then ONE JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from support import temporary_database

ROOT = Path(__file__).resolve().parent.parent
PRACTICES = 100
WAIT_S = 10

SEED = f"""
from django.utils import timezone
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.oncall.models import ContactMethod, Policy, PolicyStep
from clinicline.practices.models import Practice

for n in range({PRACTICES}):
    practice = Practice.objects.create(slug=f"p{{n}}", name=f"Practice {{n}}",
                                       time_zone="America/New_York",
                                       callback_number=f"+1617555{{n:04d}}")
    for role, who, digit in ((Role.PROVIDER, "dr", 1), (Role.PRACTICE_MANAGER, "pm", 2)):
        user = User.objects.create_user(f"{{who}}{{n}}")
        Membership.objects.create(user=user, practice=practice, role=role)
        ContactMethod.objects.create(user=user, kind="sms", address=f"+1212555{{n:03d}}{{digit}}",
                                     verified_at=timezone.now())
    policy = Policy.objects.create(practice=practice, name="Nights", repeat=1,
                                   is_default=True)
    provider = Membership.objects.get(practice=practice, role=Role.PROVIDER).user
    PolicyStep.objects.create(policy=policy, position=0, target="member", member=provider,
                              wait_s={WAIT_S})
    PolicyStep.objects.create(policy=policy, position=1, target="manager", wait_s={WAIT_S})
"""

DRIVE = """
import time
from django.db import transaction
from clinicline.intake.service import call_types_for, take_message
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Practice

practices = list(Practice.objects.order_by("pk"))
types = {p.pk: call_types_for(p).get("clinical") for p in practices}
interval, count = 1 / RATE, COUNT
start = time.monotonic()
for n in range(count):
    time.sleep(max(0.0, start + n * interval - time.monotonic()))
    practice = practices[n % len(practices)]
    if n % 2:  # the baseline: a plain text through the same outbox and workers
        enqueue(practice, channel="sms", to="+12125550100", body="Please call the office.",
                purpose="baseline", idempotency_key=f"baseline-{n}")
        continue
    with transaction.atomic():
        take_message(practice, types[practice.pk], {
            "patient_name": f"Patient {n}", "callback_number": "+16175550142",
            "concern": "Short of breath since tonight."}, answers={"breathing": True})
"""

FIRST_PAGE = """
SELECT EXTRACT(EPOCH FROM (d.sent_at - m.created_at)) FROM oncall_page p
JOIN inbox_message m ON m.id = p.message_id
JOIN oncall_pageevent e ON e.page_id = p.id AND e.kind = 'notified' AND e.channel = 'sms'
    AND e.detail LIKE 'step 1,%%' AND e.detail {BUNDLED} LIKE '%%bundle%%'
JOIN outbox_delivery d ON d.id = e.delivery_id WHERE d.sent_at IS NOT NULL
"""
LATENESS = """
SELECT EXTRACT(EPOCH FROM (b.at - a.at)) - {wait} FROM oncall_pageevent a
JOIN oncall_pageevent b ON b.page_id = a.page_id AND b.kind = 'notified'
    AND b.channel = 'sms' AND b.detail LIKE 'step 2,%%'
WHERE a.kind = 'notified' AND a.channel = 'sms' AND a.detail LIKE 'step 1,%%'
"""
BASELINE = """
SELECT EXTRACT(EPOCH FROM (sent_at - created_at)) FROM outbox_delivery
WHERE purpose = 'baseline' AND sent_at IS NOT NULL
"""
STATES = "SELECT state, COUNT(*) FROM oncall_page GROUP BY state"
DUPLICATES = """
SELECT COUNT(*) FROM (SELECT page_id, detail, member_id, channel FROM oncall_pageevent
WHERE kind = 'notified' GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1) x
"""


def sqlite_sql(query: str) -> str:
    """The same queries on SQLite: seconds between two ISO timestamps."""
    return (query.replace("%%", "%")
            .replace("EXTRACT(EPOCH FROM (d.sent_at - m.created_at))",
                     "(julianday(d.sent_at) - julianday(m.created_at)) * 86400")
            .replace("EXTRACT(EPOCH FROM (b.at - a.at))",
                     "(julianday(b.at) - julianday(a.at)) * 86400")
            .replace("EXTRACT(EPOCH FROM (sent_at - created_at))",
                     "(julianday(sent_at) - julianday(created_at)) * 86400"))


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            return db.execute(sqlite_sql(sql)).fetchall()
    with psycopg.connect(url) as db:
        return db.execute(sql.replace("%%", "%")).fetchall()


def run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "clinicline", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: clinicline {args[0]} failed:\n{done.stderr[-3000:]}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages (< 3 minutes)")
    parser.add_argument("--poll", type=float, default=0.2,
                        help="the workers' seconds between polls (theirs: 0.2)")
    args = parser.parse_args()
    rate, seconds = (4, 20) if args.quick else (6, 60)
    with tempfile.TemporaryDirectory(prefix="clinicline-bench-") as tmp_name, \
            temporary_database(Path(tmp_name), "escalation") as url:
        tmp = Path(tmp_name)
        postgres = url.startswith("postgres")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "HOME": str(tmp), "PYTHONUNBUFFERED": "1",
               "DJANGO_SETTINGS_MODULE": "clinicline.settings",
               "CLINICLINE_DATA_DIR": str(tmp / "data"), "DATABASE_URL": url,
               "CLINICLINE_LOG_LEVEL": "WARNING"}
        run(env, "migrate", "--no-input")
        run(env, "shell", "-c", SEED)
        workers = [subprocess.Popen([sys.executable, "-m", "clinicline", "worker",
                                     "--poll", str(args.poll)], env=env,
                                    cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=(tmp / f"worker-{n}.log").open("wb"),
                                    start_new_session=True)
                   for n in range(2 if postgres else 1)]
        try:
            time.sleep(3 + args.poll)  # the workers up and waiting
            drive = DRIVE.replace("RATE", str(rate)).replace("COUNT", str(rate * seconds))
            run(env, "shell", "-c", drive)
            # Both steps, the alarm, a poll each, and room.
            deadline = time.monotonic() + 2 * WAIT_S + 3 * args.poll + 60
            while dict(query(url, STATES)).get("open") and time.monotonic() < deadline:
                time.sleep(1)
            first = [float(r[0]) for r in query(url, FIRST_PAGE.format(BUNDLED="NOT"))]
            bundled = [float(r[0]) for r in query(url, FIRST_PAGE.format(BUNDLED=""))]
            late = [float(r[0]) for r in query(url, LATENESS.format(wait=WAIT_S))]
            base = [float(r[0]) for r in query(url, BASELINE)]
            states = dict(query(url, STATES))
            duplicates = query(url, DUPLICATES)[0][0]
        finally:
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
    pages = sum(states.values())
    result = {
        "database": "postgresql" if postgres else "sqlite", "workers": len(workers),
        "practices": PRACTICES, "poll_s": args.poll, "rate_per_s": rate, "seconds": seconds,
        "quick": args.quick,
        "pages": pages, "lost": states.get("open", 0), "duplicates": duplicates,
        "first_page_p50_s": round(percentile(first, 50), 3),
        "first_page_p99_s": round(percentile(first, 99), 3),
        "bundled": len(bundled),
        "bundled_p99_s": round(percentile(bundled, 99), 3) if bundled else None,
        "step_lateness_p50_s": round(percentile(late, 50), 3),
        "step_lateness_p99_s": round(percentile(late, 99), 3),
        "baseline_p50_s": round(percentile(base, 50), 3),
        "baseline_p99_s": round(percentile(base, 99), 3),
        "ratio": round(percentile(first, 99) / max(percentile(base, 99), 1e-3), 2),
        "states": states,
    }
    print(f"escalation on {result['database']}, {len(workers)} worker(s) polling every "
          f"{args.poll} s, {pages} pages "
          f"across {PRACTICES} practices: first page p50 {result['first_page_p50_s']} s, "
          f"p99 {result['first_page_p99_s']} s (target <= 1), {result['ratio']}x a plain "
          f"text's p99 ({result['baseline_p99_s']} s)")
    if bundled:
        print(f"{len(bundled)} page texts joined a number's bundle (sent once its minute ends, "
              f"by design): saved -> sent p99 {result['bundled_p99_s']} s (at most ~60 s)")
    print(f"second step after a {WAIT_S} s wait: late by p50 {result['step_lateness_p50_s']} s, "
          f"p99 {result['step_lateness_p99_s']} s (target <= 1); lost {result['lost']}, "
          f"duplicates {duplicates}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
