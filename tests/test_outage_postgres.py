"""A real database outage under real load: a PostgreSQL server of the test's own (initdb into
a temporary directory, run as an unprivileged user, on a free port; never the server CI
provides) behind ``clinicline serve`` (gunicorn and the worker), restarted and then stopped
for a few seconds while signed texts and calls arrive at a bounded rate.

What must hold: no 500 (only 2xx or 503); every text answered 2xx is stored once and handled
once by the worker, and a text answered 503 is not stored at all (the carrier retries it); a
call during the outage hears the 911 line and is put through to the fallback phone; and
/healthz says 503 while the database is down and 200 after.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from twilio.request_validator import RequestValidator

from tests.support_postgres import Server, free_port, postgres_bin

ROOT = Path(__file__).resolve().parent.parent
PRACTICE_NUMBER = "+16175550100"  # the demo practice (clinicline/demo/seed.py)
FRONT_DESK = "+16175550101"
PATIENTS = ["+16175550142", "+14155552671", "+17735550123"]
RATE_PER_S = 20
CLIENTS = 4
TIMEOUT_S = 15  # Twilio's budget for one webhook
EMERGENCY = "dial 9 1 1"


@dataclass
class Answer:
    kind: str
    sid: str
    status: int
    body: str
    retry_after: str
    during_outage: bool


class Load:
    """Signed texts and calls at a fixed, bounded rate from a few client threads."""

    def __init__(self, site: str, token: str) -> None:
        self.site, self.validator = site, RequestValidator(token)
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.outage = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def post(self, path: str, params: dict[str, str]) -> tuple[int, str, str]:
        url = self.site + path
        request = urllib.request.Request(url, data=urlencode(params).encode(), headers={  # noqa: S310
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(url, params)})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Retry-After", "")
        except OSError:  # no answer in Twilio's budget: the worst outcome, counted as 0
            return 0, "", ""

    def one(self, n: int) -> None:
        patient = PATIENTS[n % len(PATIENTS)]
        during = self.outage.is_set()
        if n % 5 == 0:
            sid = "CA" + uuid.uuid4().hex
            status, body, retry = self.post("/gateways/twilio/voice", {
                "CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": patient,
                "To": PRACTICE_NUMBER, "CallStatus": "ringing", "Direction": "inbound",
                "ApiVersion": "2010-04-01"})
            kind = "voice"
        else:
            sid = "SM" + uuid.uuid4().hex
            status, body, retry = self.post("/gateways/twilio/sms", {
                "MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
                "From": patient, "To": PRACTICE_NUMBER, "Body": f"Running late, sorry ({n})",
                "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"})
            kind = "sms"
        with self.lock:
            self.answers.append(Answer(kind, sid, status, body, retry,
                                       during and self.outage.is_set()))

    def client(self, first: int) -> None:
        interval = CLIENTS / RATE_PER_S
        n, due = first, time.monotonic()
        while not self.stopping.is_set():
            self.one(n)
            n += CLIENTS
            due += interval
            time.sleep(max(0.0, due - time.monotonic()))

    def start(self) -> None:
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(2 * TIMEOUT_S)


def healthz(site: str) -> int:
    """/healthz's status (0: no answer at all)."""
    try:
        with urllib.request.urlopen(site + "/healthz", timeout=TIMEOUT_S) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def environment(root: Path, database_url: str, site: str, token: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "HOME": str(root), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "clinicline.settings",
            "CLINICLINE_DATA_DIR": str(root / "data"), "DATABASE_URL": database_url,
            "CLINICLINE_SITE_URL": site, "DEMO_TWILIO_AUTH_TOKEN": token,
            "CLINICLINE_LOG_LEVEL": "WARNING"}


@contextlib.contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    with log.open("ab") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "clinicline", "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", "2"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    try:
        yield serve
    finally:
        serve.terminate()  # serve asks gunicorn and the worker to stop
        try:
            serve.wait(timeout=40)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=10)


def rows(database_url: str, sids: list[str]) -> dict[str, tuple[int, int, str | None]]:
    """For each text id: ledger rows, intake rows, and the intake row's state."""
    with psycopg.connect(database_url) as db:
        ledger = dict(db.execute(
            "SELECT key, COUNT(*) FROM gateways_inboundwebhook WHERE kind = 'sms' "
            "AND key = ANY(%s) GROUP BY key", [sids]).fetchall())
        texts: dict[str, list[str]] = {}
        for sid, state in db.execute("SELECT message_sid, state FROM intake_inboundtext "
                                     "WHERE message_sid = ANY(%s)", [sids]).fetchall():
            texts.setdefault(sid, []).append(state)
    return {sid: (ledger.get(sid, 0), len(texts.get(sid, [])), (texts.get(sid) or [None])[0])
            for sid in sids}


def test_a_postgres_outage_under_load_loses_nothing_and_a_caller_still_hears_911():
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL's server binaries are missing: run make debian"
    root = Path(tempfile.mkdtemp(prefix="clinicline-outage-", dir="/tmp"))
    pg = Server(bindir, root, free_port())
    port, token = free_port(), secrets.token_urlsafe(24)
    site = f"http://127.0.0.1:{port}"
    try:
        pg.start()
        with psycopg.connect(pg.url("postgres"), autocommit=True) as db:
            db.execute("CREATE DATABASE clinicline")
        env = environment(root, pg.url(), site, token)
        for args in (["migrate", "--no-input"], ["demo"]):
            done = subprocess.run([sys.executable, "-m", "clinicline", *args], env=env,
                                  cwd=ROOT, capture_output=True, text=True, timeout=300,
                                  check=False)
            assert done.returncode == 0, done.stderr[-2000:]
        with serving(env, port, root / "serve.log"):
            # Up, and the worker has written the database-free answer for the number.
            deadline = time.monotonic() + 60
            while healthz(site) != 200 or not (root / "data" / "voice-fallback.json").exists():
                assert time.monotonic() < deadline, (root / "serve.log").read_text()[-3000:]
                time.sleep(0.2)
            load = Load(site, token)
            load.start()
            try:
                time.sleep(2)
                pg.stop()  # a restart: every connection cut
                pg.start()
                time.sleep(2)
                load.outage.set()
                pg.stop()  # down for 8 seconds
                began = time.monotonic()
                time.sleep(1)
                down_health = healthz(site)
                time.sleep(max(0.0, 8 - (time.monotonic() - began)))
                load.outage.clear()
                pg.start()
                time.sleep(3)
            finally:
                load.stop()
            up_health = healthz(site)
            answers = load.answers
            accepted = [a.sid for a in answers if a.kind == "sms" and a.status == 200]
            refused = [a.sid for a in answers if a.kind == "sms" and a.status == 503]
            deadline = time.monotonic() + 60  # the worker clears the backlog
            while any(state != "done" for *_, state in rows(pg.url(), accepted).values()):
                assert time.monotonic() < deadline, "the worker did not handle every text"
                time.sleep(0.5)
            kept, left = rows(pg.url(), accepted), rows(pg.url(), refused)
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)

    statuses = sorted({a.status for a in answers})
    assert set(statuses) <= {200, 503}, statuses  # never a 500, never no answer
    assert len(answers) >= 200, len(answers)  # ~20 a second for ~16 s: the load really ran
    assert refused, "the outage was never seen: no text was answered 503"
    assert all(a.retry_after for a in answers if a.status == 503)
    # Every text answered 2xx: one ledger row, one intake row, handled once by the worker.
    assert {sid: c for sid, c in kept.items() if c != (1, 1, "done")} == {}
    # A text answered 503 left nothing behind: the carrier's retry brings it again.
    assert {sid: c for sid, c in left.items() if c != (0, 0, None)} == {}

    # Every call was answered; one while the database was down heard the 911 line, that no
    # message can be taken, and was put through to the front desk.
    assert all(a.status == 200 for a in answers if a.kind == "voice")
    outage_calls = [a for a in answers if a.kind == "voice" and a.during_outage]
    assert outage_calls
    for call in outage_calls:
        root_element = ET.fromstring(call.body)  # noqa: S314 (our own answer)
        said = " ".join(e.text or "" for e in root_element.iter("Say"))
        assert EMERGENCY in said and "cannot take messages" in said
        assert [e.text for e in root_element.iter("Number")] == [FRONT_DESK]
    assert (down_health, up_health) == (503, 200)
