"""The same webhook delivered several times at the same moment still has one effect.

Twilio retries, and a load balancer may hand two copies to two web processes at once. The
voicemail callback is the event used: it has two effects (its webhook row and a Recording
row), and its handler is slowed down here so that every duplicate arrives while the first
is still inside its transaction — the window a check-then-insert would lose.

PostgreSQL: threads on the test database, each on its own connection. SQLite: the test
database is in memory and private to one connection, so the concurrency there is what a
one-office install runs: separate processes on one database file (WAL, IMMEDIATE).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client, override_settings

from clinicline.gateways import calls as voice_calls
from clinicline.gateways.inbound import Inbound
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.inbox.models import Recording
from clinicline.practices.models import GatewayAccount
from tests.gateways.test_webhooks import (
    ACCOUNT_SID,
    FORM,
    NUMBER,
    RECORDING,
    SITE,
    TOKEN,
    VOICE,
    call,
    sign,
    voicemail,
)
from tests.support_proc import TIMEOUT_S, base_env, clinicline, start_together

DUPLICATES = 4
SLOW_S = 0.3

# A web process of its own: Django set up on the database file, the voicemail handler
# slowed down and counted, then — on "go" — one signed POST through the real view.
POSTER = f"""
import json, pathlib, sys, time, django
django.setup()
from urllib.parse import urlencode
from django.test import Client
from twilio.request_validator import RequestValidator
from clinicline.gateways import calls as voice_calls
signals, n = pathlib.Path(sys.argv[1]), sys.argv[2]
params = json.loads(sys.argv[3])
calls = []
queue = voice_calls.queue_recording
def slow(inbound):
    calls.append(1)
    time.sleep({SLOW_S})
    return queue(inbound)
voice_calls.queue_recording = slow  # slowed and counted: the handler's effect
url = "{RECORDING}"
signature = RequestValidator("{TOKEN}").compute_signature("{SITE}" + url, params)
client = Client()
(signals / f"ready-{{n}}").touch()
while not (signals / "go").exists():
    time.sleep(0.002)
response = client.post(url, urlencode(params), content_type="{FORM}",
                       headers={{"X-Twilio-Signature": signature}})
print(json.dumps([response.status_code, response.content.decode(), len(calls)]))
"""

SETUP = f"""
import json, sys, django
django.setup()
from urllib.parse import urlencode
from django.test import Client
from twilio.request_validator import RequestValidator
from clinicline.practices.models import GatewayAccount
from clinicline.practices.models import Practice
practice = Practice.objects.create(slug="riverside", name="Riverside Family Medicine",
                                   time_zone="America/New_York", callback_number="{NUMBER}")
GatewayAccount.objects.create(practice=practice, phone_number="{NUMBER}",
                              account_sid="{ACCOUNT_SID}", auth_token="{TOKEN}")
params = json.loads(sys.argv[1])
signature = RequestValidator("{TOKEN}").compute_signature("{SITE}{VOICE}", params)
answered = Client().post("{VOICE}", urlencode(params), content_type="{FORM}",
                         headers={{"X-Twilio-Signature": signature}})
assert answered.status_code == 200, answered.content
"""


@pytest.mark.django_db(transaction=True)
def test_duplicate_voicemail_callbacks_at_the_same_moment_have_one_effect(practice, tmp_path):
    if connection.vendor == "postgresql":
        outcomes = on_threads(practice)
        webhook_rows = InboundWebhook.objects.filter(kind=Kind.RECORDING).count()
        recordings = Recording.objects.count()
    else:
        outcomes, webhook_rows, recordings = on_processes(tmp_path)
    assert [status for status, _, _ in outcomes] == [200] * DUPLICATES
    assert len({body for _, body, _ in outcomes}) == 1  # the same answer for every copy
    # The handler ran once: every other copy waited on the unique key, then read the answer.
    assert sum(ran for _, _, ran in outcomes) == 1
    assert (webhook_rows, recordings) == (1, 1)


def on_threads(practice: Any) -> list[tuple[int, str, int]]:
    GatewayAccount.objects.create(practice=practice, phone_number=NUMBER,
                                  account_sid=ACCOUNT_SID, auth_token=TOKEN)
    params = voicemail()
    with override_settings(SITE_URL=SITE):
        answered = Client().post(VOICE, urlencode(call()), content_type=FORM,
                                 headers={"X-Twilio-Signature": sign(SITE + VOICE, call())})
        assert answered.status_code == 200
        ran: dict[int, int] = {}

        queue = voice_calls.queue_recording

        def slow(inbound: Inbound) -> Recording | None:
            ident = threading.get_ident()
            ran[ident] = ran.get(ident, 0) + 1
            time.sleep(SLOW_S)
            return queue(inbound)

        with mock.patch.object(voice_calls, "queue_recording", slow):
            start = threading.Barrier(DUPLICATES, timeout=TIMEOUT_S)
            results: list[Any] = [None] * DUPLICATES
            errors: list[BaseException] = []

            def deliver(n: int) -> None:
                try:
                    start.wait()
                    response = Client().post(RECORDING, urlencode(params), content_type=FORM,
                                             headers={"X-Twilio-Signature":
                                                      sign(SITE + RECORDING, params)})
                    results[n] = (response.status_code, response.content.decode(),
                                  ran.get(threading.get_ident(), 0))
                except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                    errors.append(exc)
                finally:
                    connection.close()  # each thread has its own connection

            threads = [threading.Thread(target=deliver, args=(n,)) for n in range(DUPLICATES)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(TIMEOUT_S)
    assert errors == [], errors
    return results


def on_processes(tmp: Path) -> tuple[list[tuple[int, str, int]], int, int]:
    env = base_env(tmp, DJANGO_SETTINGS_MODULE="clinicline.settings", CLINICLINE_SITE_URL=SITE)
    migrated = clinicline("migrate", "--no-input", env=env)
    assert migrated.returncode == 0, migrated.stderr
    made = subprocess.run([sys.executable, "-c", SETUP, json.dumps(call())], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert made.returncode == 0, made.stderr
    payload = json.dumps(voicemail())
    outputs = start_together(
        DUPLICATES, lambda n, signals: ["-c", POSTER, str(signals), str(n), payload],
        env, tmp / "signals")
    results = [tuple(json.loads(out.strip().splitlines()[-1])) for out in outputs]
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        (webhook_rows,) = db.execute(
            f"SELECT COUNT(*) FROM {InboundWebhook._meta.db_table} "  # noqa: S608
            "WHERE kind = ?", [Kind.RECORDING.value]).fetchone()
        (recordings,) = db.execute(
            f"SELECT COUNT(*) FROM {Recording._meta.db_table}").fetchone()  # noqa: S608
    return results, webhook_rows, recordings  # type: ignore[return-value]
