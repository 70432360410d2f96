"""Two real worker processes on a PostgreSQL server of the test's own, one SIGKILLed while
pages are in flight: every page still reaches acknowledged or alarmed (the killed worker's
claims run out and the other takes them), and no step notifies anyone twice. A delivery
the killed worker had claimed but not finished stays "sending" until the outbox requeues
it (after ``STUCK_AFTER``), which is where one duplicate at the vendor can come from; such
deliveries are counted, never lost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support_postgres import Server, clinicline_env, free_port, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
PAGES = 20
ACKED = 5

SEED = f"""
from django.db import transaction
from django.utils import timezone
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall.models import ContactMethod, Policy, PolicyStep
from clinicline.practices.models import Practice

practice = Practice.objects.create(slug="kill", name="Riverside Family Medicine",
                                   time_zone="America/New_York",
                                   callback_number="+16175550100")
provider = User.objects.create_user("osei")
manager = User.objects.create_user("manager")
Membership.objects.create(user=provider, practice=practice, role=Role.PROVIDER)
Membership.objects.create(user=manager, practice=practice, role=Role.PRACTICE_MANAGER)
for n, user in enumerate((provider, manager)):
    ContactMethod.objects.create(user=user, kind="sms", address=f"+1617555019{{n}}",
                                 verified_at=timezone.now())
policy = Policy.objects.create(practice=practice, name="Nights", repeat=1, is_default=True)
PolicyStep.objects.create(policy=policy, position=0, target="member", member=provider,
                          wait_s=10)
PolicyStep.objects.create(policy=policy, position=1, target="manager", wait_s=10)
clinical = call_types_for(practice).get("clinical")
for n in range({PAGES}):
    with transaction.atomic():
        take_message(practice, clinical, {{"patient_name": f"Patient {{n}}",
                     "callback_number": "+16175550142",
                     "concern": "Short of breath since tonight."}},
                     answers={{"breathing": True}})
"""

ACK = f"""
from clinicline.accounts.models import User
from clinicline.oncall import pages
from clinicline.oncall.models import Page
osei = User.objects.get(username="osei")
for page in Page.objects.order_by("opened_at")[:{ACKED}]:
    pages.acknowledge(page, osei, via="link")
"""


def shell(env: dict[str, str], code: str) -> None:
    done = subprocess.run([sys.executable, "-m", "clinicline", "shell", "-c", code], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "clinicline", "worker"], env=env,
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def states(url: str) -> dict[str, int]:
    with psycopg.connect(url) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM oncall_page GROUP BY state")
                    .fetchall())


def test_a_worker_killed_mid_escalation_loses_no_page_and_notifies_no_step_twice():
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL's server binaries are missing: run make debian"
    root = Path(tempfile.mkdtemp(prefix="clinicline-kill-", dir="/tmp"))
    pg = Server(bindir, root, free_port())
    workers: list[subprocess.Popen] = []
    try:
        pg.start()
        env = clinicline_env(root, pg.create_database())
        done = subprocess.run([sys.executable, "-m", "clinicline", "migrate", "--no-input"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        shell(env, SEED)  # 20 urgent messages: each page's first step ran as it committed
        workers = [worker(env, root / f"worker-{n}.log") for n in range(2)]
        # The second steps fall due 10 s after the first: kill one worker as they do.
        time.sleep(10.3)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        shell(env, ACK)
        deadline = time.monotonic() + 120  # a lease (30 s) and two 10 s steps, with room
        while states(pg.url()).get("open"):
            assert time.monotonic() < deadline, states(pg.url())
            time.sleep(1)
        with psycopg.connect(pg.url()) as db:
            notified = db.execute(
                "SELECT page_id, detail, member_id, channel, COUNT(*) FROM oncall_pageevent "
                "WHERE kind = 'notified' GROUP BY 1, 2, 3, 4").fetchall()
            in_flight = db.execute("SELECT COUNT(*) FROM outbox_delivery "
                                   "WHERE status = 'sending'").fetchone()[0]
            sent_twice = db.execute(
                "SELECT COUNT(*) FROM (SELECT delivery_id FROM simulator_simulatorevent "
                "WHERE delivery_id IS NOT NULL GROUP BY delivery_id HAVING COUNT(*) > 1) x"
            ).fetchone()[0] if has_column(db, "simulator_simulatorevent", "delivery_id") else 0
        final = states(pg.url())
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)

    assert final == {"acknowledged": ACKED, "alarmed": PAGES - ACKED}, final
    assert [row for row in notified if row[-1] != 1] == []  # no step notified anyone twice
    # Every page's members: the provider's step always ran; the manager's unless acked.
    assert len({row[0] for row in notified}) == PAGES
    # What the kill left mid-send is counted (the outbox requeues it after STUCK_AFTER).
    assert in_flight <= 2 * 20, in_flight  # at most the killed worker's claimed batch
    assert sent_twice == 0


def has_column(db: psycopg.Connection, table: str, column: str) -> bool:
    return db.execute("SELECT 1 FROM information_schema.columns WHERE table_name = %s "
                      "AND column_name = %s", [table, column]).fetchone() is not None
