"""A new urgent message wakes a worker at once: a real ``clinicline worker`` polling only
every 30 s, on a PostgreSQL server of the test's own, texts the on-call provider well
under a second after another process opens the page. Only NOTIFY can have woken it. It
does so when the opener takes the first step itself (the step's text, queued for now,
wakes the outbox), when the opener does not (the page itself wakes the worker, which
takes the step), and after the database restarted under the worker (it listens again).
Like every test with a server of its own, it runs whatever database the suite is on."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support_postgres import Server, clinicline_env, free_port, postgres_bin

ROOT = Path(__file__).resolve().parent.parent
POLL_S = 30  # the worker's own poll: never the reason a text went out in time
PROMPT_S = 1.0

SEED = """
from django.utils import timezone
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.oncall.models import ContactMethod, Policy, PolicyStep
from clinicline.practices.models import Practice

practice = Practice.objects.create(slug="wake", name="Riverside Family Medicine",
                                   time_zone="America/New_York",
                                   callback_number="+16175550100")
# One provider per page: texts to one number inside a minute would be bundled (held).
for n, name in enumerate(["osei", "kim", "ferreira"]):
    provider = User.objects.create_user(name)
    Membership.objects.create(user=provider, practice=practice, role=Role.PROVIDER)
    ContactMethod.objects.create(user=provider, kind="sms", address=f"+1617555019{n}",
                                 verified_at=timezone.now())
policy = Policy.objects.create(practice=practice, name="Nights", repeat=1, is_default=True)
PolicyStep.objects.create(policy=policy, position=0, target="member", member=provider,
                          wait_s=600)
"""

OPEN = """
from contextlib import nullcontext
from unittest import mock
from django.db import transaction
from clinicline.intake.service import call_types_for, take_message
from clinicline.practices.models import Practice

from clinicline.accounts.models import User
from clinicline.oncall.models import PolicyStep

practice = Practice.objects.get(slug="wake")
clinical = call_types_for(practice).get("clinical")
PolicyStep.objects.filter(policy__practice=practice).update(
    member=User.objects.get(username="MEMBER"))
# STEP_HERE False: the opener does not take the first step (as if it died on commit).
with nullcontext() if STEP_HERE else mock.patch("clinicline.oncall.pages.run_due"):
    with transaction.atomic():
        take_message(practice, clinical, {"patient_name": "Walter Okafor",
                     "callback_number": "+16175550142",
                     "concern": "Short of breath since tonight."}, answers={"breathing": True})
"""

# A listener of its own, and texts queued in the same database: woken as the transaction
# commits, once however many it queued; never for a rollback or a text due later.
LISTEN = """
import datetime as dt
from django.db import transaction
from django.utils import timezone
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Practice
from clinicline.wake import Listener

practice = Practice.objects.get(slug="wake")

def queue(key, due_at=None):
    enqueue(practice, channel="sms", to="+16175550142", body="Please call the office.",
            purpose="reminder", idempotency_key=key, due_at=due_at)

listener = Listener()
assert listener.wait(0)  # connected: what it may have missed counts as a wake-up
assert not listener.wait(0.05)
with transaction.atomic():
    queue("now-1")
    queue("now-2")
    assert not listener.wait(0.2), "woken before the commit"
assert listener.wait(5), "not woken by the commit"
assert not listener.wait(0.1), "one transaction woke it twice"
with transaction.atomic():
    queue("rolled-back")
    transaction.set_rollback(True)
queue("later", due_at=timezone.now() + dt.timedelta(minutes=5))
assert not listener.wait(0.3), "woken by a rollback or by a text due later"
listener.close()
"""

# Each page's first text: how long after the page opened it was handed to the gateway.
TEXTS = """
SELECT EXTRACT(EPOCH FROM (d.sent_at - p.opened_at)) FROM oncall_page p
JOIN oncall_pageevent e ON e.page_id = p.id AND e.kind = 'notified' AND e.channel = 'sms'
JOIN outbox_delivery d ON d.id = e.delivery_id
WHERE d.sent_at IS NOT NULL ORDER BY p.opened_at
"""
LISTENING = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = 'clinicline' "
             "AND query = 'LISTEN clinicline_work'")


def clinicline(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "clinicline", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def rows(url: str, sql: str) -> list[tuple]:
    try:
        with psycopg.connect(url, connect_timeout=2) as db:
            return db.execute(sql).fetchall()
    except psycopg.OperationalError:
        return []  # still starting


def until(condition, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def open_page(env: dict[str, str], url: str, log: Path, *, step_here: bool,
              member: str) -> float:
    """Opens one urgent message's page to ``member`` from another process; returns how
    long its text took to leave."""
    before = len(rows(url, TEXTS))
    clinicline(env, "shell", "-c",
               OPEN.replace("STEP_HERE", str(step_here)).replace("MEMBER", member))
    until(lambda: len(rows(url, TEXTS)) > before, "the page's text was never sent", log,
          timeout=5 * PROMPT_S)
    return float(rows(url, TEXTS)[before][0])


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[Server, dict[str, str], Path]]:
    """A migrated database with one practice on a server of the module's own."""
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL's server binaries are missing: run make debian"
    root = Path(tempfile.mkdtemp(prefix="clinicline-wake-", dir="/tmp"))
    pg = Server(bindir, root, free_port())
    try:
        pg.start()
        env = clinicline_env(root, pg.create_database())
        clinicline(env, "migrate", "--no-input")
        clinicline(env, "shell", "-c", SEED)
        yield pg, env, root
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_work_due_now_wakes_a_listener_as_its_transaction_commits_and_only_then(database):
    _, env, _ = database
    clinicline(env, "shell", "-c", LISTEN)


def test_an_urgent_message_wakes_a_worker_at_once_not_at_its_next_poll(database):
    pg, env, root = database
    log = root / "worker.log"
    worker: subprocess.Popen | None = None
    stopped_in = 0.0
    try:
        with log.open("ab") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "clinicline", "worker", "--poll", str(POLL_S)],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        until(lambda: rows(pg.url(), LISTENING) == [(1,)], "the worker never listened", log)
        time.sleep(1)  # its first passes are over: from now on it only waits

        stepped_here = open_page(env, pg.url(), log, step_here=True, member="osei")
        stepped_by_worker = open_page(env, pg.url(), log, step_here=False, member="kim")

        pg.stop()  # a restart under the worker: its listening connection is cut
        pg.start()
        until(lambda: rows(pg.url(), LISTENING) == [(1,)], "the worker never listened again",
              log)
        after_restart = open_page(env, pg.url(), log, step_here=True, member="ferreira")
        assert worker.poll() is None, log.read_text()[-3000:]
    finally:
        if worker is not None and worker.poll() is None:
            began = time.monotonic()
            worker.terminate()
            worker.wait(timeout=POLL_S + 10)
            stopped_in = time.monotonic() - began
    told = log.read_text()

    assert stepped_here < PROMPT_S, stepped_here
    assert stepped_by_worker < PROMPT_S, stepped_by_worker
    assert after_restart < PROMPT_S, after_restart
    assert worker.returncode == 0 and stopped_in < 5, stopped_in  # not after the poll
    assert "listening for new work again" in told and "Traceback" not in told, told
