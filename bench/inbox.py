"""Secure inbox benchmark: the server time of a nurse's queue page with 100,000 messages in
the database, and triage throughput.

    .venv/bin/python bench/inbox.py [--messages 100000] [--requests 200]

Runs on a database of its own: a temporary SQLite file, or, when DATABASE_URL names a
PostgreSQL server, a fresh database created on that server and dropped at the end (the one
DATABASE_URL names is never opened). The messages are realistic: one of each kind is made by
``take_message`` (triage, routing, sealing as in production), then copied in bulk, each copy
sealed again under its own id, spread evenly over a year (about 270 a day, a busy answering
service) with a working practice's priorities and teams: the last three days' messages open,
1% of older ones left claimed, the rest closed.

The page is served in-process by Django's test client (middleware, session, MFA check, the
view, the template: everything but the socket), signed in as a nurse with MFA passed. In
the same run and in alternating rounds, the same page of a second practice whose queues are
empty is the baseline; ratio = p95 / baseline p95. Prints human lines, then one JSON line.

Target: p95_ms <= 100 with 100,000 messages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django
from support import temporary_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
P95_TARGET_MS = 100.0
SHARED = Path(os.environ.get("CLINICLINE_SHARED") or ROOT.parent / "shared")
PII_TEXTS = SHARED / "data" / "pii-synthetic" / "synth_dataset_v2.json"

# One message of each kind, as agents take them (call type, fields). Names, numbers and
# complaints are invented.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("clinical", {"patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
                  "callback_number": "+16175550142",
                  "concern": "Sore throat and a mild fever since Tuesday, no trouble swallowing"}),
    ("refill", {"patient_name": "Marcus Bell", "date_of_birth": dt.date(1971, 9, 14),
                "medication": "lisinopril 10 mg", "pharmacy": "CVS on Main Street",
                "callback_number": "+16175550143", "days_left": 3}),
    ("scheduling", {"patient_name": "Priya Raman", "callback_number": "+12125550187",
                    "preferred_times": "weekday mornings"}),
    ("billing", {"patient_name": "Ana Lima", "callback_number": "+17735550123",
                 "question": "I think I was charged twice for the March visit"}),
    ("complaint", {"patient_name": "Joe Park", "callback_number": "+12025550173",
                   "complaint": "I waited forty minutes past my appointment time"}),
]
# How the team's messages are spread: (call type of the copy, its share).
MIX = [("clinical", 0.30), ("refill", 0.20), ("scheduling", 0.25), ("billing", 0.15),
       ("complaint", 0.10)]
# Free text as callers say it: clinical, red-flag, and ordinary.
CALLER_TEXTS = [
    "Sore throat and a mild fever since Tuesday, no trouble swallowing",
    "my dad has crushing chest pain and he is sweating",
    "She can't catch her breath after the stairs, lips look a bit blue",
    "I need my lisinopril refilled, three days left",
    "The baby is 6 weeks old and has a temperature of 38.5",
    "I had knee surgery on Monday and now my calf is swollen and painful",
    "Can I move my appointment on Thursday to the afternoon?",
    "Why was I charged twice for the March visit?",
    "I waited forty minutes past my appointment time and nobody apologized",
    "no chest pain, no shortness of breath, just a rash on my forearm",
    "I am pregnant and have some light spotting since this morning",
    "He fell off a ladder, hit his head and has thrown up twice",
    "Please send my records to Dr. Chen at Lakeside",
    "I've been feeling really down and have been thinking about ending my life",
    "The pharmacy says the prescription was never sent",
]


def signed_in_nurse(practice: Any, username: str) -> Any:
    """A test client past password and MFA, as tests/conftest.py's ``signed_in`` makes."""
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinicline.accounts.models import Membership, User
    from clinicline.accounts.roles import Role

    user = User.objects.create_user(username, password=secrets.token_urlsafe(16))
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    Membership.objects.create(user=user, practice=practice, role=Role.NURSE)
    client = Client()
    client.force_login(user)
    session, now = client.session, timezone.now().timestamp()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # The run is minutes long: no idle logoff in the middle of it.
    session.update({"started_at": now, "last_seen": now, "idle_s": 3600, "reauth_at": now})
    session.save()
    return client


def fill(practice: Any, count: int, seed: int = 7) -> dict[str, int]:
    """``count`` messages: real ones of each kind, then sealed copies in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from clinicline.inbox.models import Message, MessageStatus
    from clinicline.intake.service import call_types_for, take_message

    types = call_types_for(practice)
    originals = {slug: take_message(practice, types.get(slug), fields) for slug, fields in KINDS}
    urgent_team = originals["clinical"].team
    rng = random.Random(seed)
    now = timezone.now()
    statuses: dict[str, int] = {}
    created_at = Message._meta.get_field("created_at")
    created_at.auto_now_add = False  # the copies are spread over a year, not made "now"
    try:
        with transaction.atomic():
            batch: list[Message] = []
            for i in range(count):
                slug = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
                original = originals[slug]
                age = dt.timedelta(days=365) * (i / count)  # a steady year of calls
                roll = rng.random()
                priority = "emergency" if roll < 0.02 else "urgent" if roll < 0.10 else "routine"
                if age < dt.timedelta(days=3):
                    status = MessageStatus.NEW if rng.random() < 0.6 else MessageStatus.CLAIMED
                else:
                    # A few older ones left claimed: someone forgot to close them.
                    status = MessageStatus.CLOSED if rng.random() < 0.99 else MessageStatus.CLAIMED
                statuses[status] = statuses.get(status, 0) + 1
                at = now - age - dt.timedelta(seconds=rng.randint(0, 600))
                copy = Message(
                    practice=practice, source=original.source, call_type=original.call_type,
                    call_type_version=original.call_type_version,
                    protocol_version=original.protocol_version, priority=priority,
                    clinical=original.clinical or priority != "routine",
                    office_open=rng.random() < 0.6,
                    team=urgent_team if priority != "routine" else original.team,
                    status=status, content=dict(original.content), triage=dict(original.triage),
                    retain_until=original.retain_until, created_at=at, updated_at=at,
                    claimed_at=at if status != MessageStatus.NEW else None,
                    closed_at=at if status == MessageStatus.CLOSED else None,
                    outcome="called-back" if status == MessageStatus.CLOSED else "")
                batch.append(copy)
                if len(batch) == 2_000:
                    Message.objects.bulk_create(batch)
                    batch = []
            Message.objects.bulk_create(batch)
    finally:
        created_at.auto_now_add = True
    return statuses


def timed(client: Any, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"bench: {path} answered {response.status_code}")
    return elapsed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure_pages(pages: dict[str, tuple[Any, str]], requests: int) -> dict[str, float]:
    """p95 ms of each page, in alternating rounds so drift weighs on all alike."""
    for client, path in pages.values():
        for _ in range(10):
            timed(client, path)  # warm up caches, templates, connections
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(requests):
        for name, (client, path) in pages.items():
            times[name].append(timed(client, path))
    return {name: p95(values) for name, values in times.items()}


def queue_plan(practice: Any, username: str) -> str:
    from clinicline.accounts.models import Membership
    from clinicline.inbox.views import _listed
    from clinicline.practices.models import Team

    membership = Membership.objects.get(practice=practice, user__username=username)
    return _listed(membership, Team.objects.get(practice=practice, slug="clinical"),
                   "open").explain()


def triage_rate(practice: Any, rounds: int = 5) -> tuple[int, float]:
    """Texts per second through the practice's protocol (the detector and decide)."""
    from clinicline.triage import service as triage
    from clinicline.triage.engine import decide

    spec = triage.protocol_for(practice).spec
    texts = list(CALLER_TEXTS) * 20
    if PII_TEXTS.is_file():  # ordinary talk, which mostly flags nothing
        texts += [row["full_text"] for row in json.loads(PII_TEXTS.read_text())][:1000]
    decide(spec, "clinical", {}, texts[:1])
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            decide(spec, "clinical", {}, [text])
        times.append(time.perf_counter() - start)
    return len(texts), len(texts) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp), "inbox") as url:
        os.environ.update(DATABASE_URL=url, CLINICLINE_DATA_DIR=tmp,
                          DJANGO_SETTINGS_MODULE="clinicline.settings")
        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from clinicline.inbox.models import Message
        from clinicline.practices.models import Practice, Team

        call_command("migrate", verbosity=0)
        database = connection.vendor
        busy = Practice.objects.create(slug="riverside", name="Riverside Family Medicine",
                                       time_zone="America/New_York",
                                       callback_number="+16175550100")
        empty = Practice.objects.create(slug="lakeside", name="Lakeside Pediatrics",
                                        time_zone="America/Chicago",
                                        callback_number="+13125550100")
        start = time.perf_counter()
        statuses = fill(busy, args.messages)
        Team.objects.create(practice=empty, slug="clinical", name="Clinical")  # no messages
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        messages = Message.objects.count()
        print(f"inbox bench on {database}: {messages:,} messages in "
              f"{time.perf_counter() - start:.1f} s ({statuses})")
        nurse, baseline_nurse = (signed_in_nurse(busy, "busy-nurse"),
                                 signed_in_nurse(empty, "empty-nurse"))
        plan = queue_plan(busy, "busy-nurse")
        uses_index = "message_queue" in plan
        print(f"queue query plan ({'uses' if uses_index else 'DOES NOT use'} message_queue):")
        print("  " + plan.replace("\n", "\n  "))
        pages = {
            "queue": (nurse, "/p/riverside/inbox/q/clinical/"),
            "baseline": (baseline_nurse, "/p/lakeside/inbox/q/clinical/"),
            "closed": (nurse, "/p/riverside/inbox/q/clinical/?status=closed&page=3"),
            "index": (nurse, "/p/riverside/inbox/"),
        }
        result = measure_pages(pages, args.requests)
        texts, rate = triage_rate(busy)
        connections.close_all()  # before the temporary database is dropped
    ratio = result["queue"] / result["baseline"]
    print(f"queue page p95: {result['queue']:.1f} ms (target <= {P95_TARGET_MS:.0f}); "
          f"empty practice p95: {result['baseline']:.1f} ms; ratio {ratio:.2f}")
    print(f"closed tab, page 3 p95: {result['closed']:.1f} ms; inbox index p95: "
          f"{result['index']:.1f} ms")
    print(f"triage: {rate:,.0f} texts/s over {texts} texts")
    print(json.dumps({
        "database": database, "messages": messages, "requests": args.requests,
        "p95_ms": round(result["queue"], 2), "baseline_p95_ms": round(result["baseline"], 2),
        "ratio": round(ratio, 3), "closed_p95_ms": round(result["closed"], 2),
        "index_p95_ms": round(result["index"], 2), "uses_message_queue_index": uses_index,
        "triage_texts": texts, "triage_texts_per_s": round(rate, 1),
    }))


if __name__ == "__main__":
    main()
