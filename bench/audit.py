"""Audit trail benchmark: what the hash chain costs an append, and how fast it verifies.

    .venv/bin/python bench/audit.py [--appends 2000] [--events 200000]

Runs on a database of its own: a temporary SQLite file, or, when DATABASE_URL names a
PostgreSQL server, a fresh database created on that server and dropped at the end (the one
DATABASE_URL names is never opened). Prints human lines, then one JSON line of raw figures.

Targets: chained appends at least 0.6 of plain ones; verification at least 200,000 events/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import django
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from support import temporary_database

APPEND_TARGET, VERIFY_TARGET = 0.6, 200_000


def per_second(count: int, work: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(count):
        work(i)
    return count / (time.perf_counter() - start)


def measure_appends(count: int) -> dict[str, float]:
    """Appends per second, each in its own transaction: chained (record()), plain through
    the ORM (the brief's baseline) and plain SQL (the floor: what the INSERT alone costs).

    The kinds alternate in rounds, so that a warming cache or a busy neighbour weighs on all.
    """
    # Models can only be imported once django.setup() has run, which needs DATABASE_URL
    # set first: hence imports here rather than at the top.
    from clinicline.audit.models import Action, AuditEvent
    from clinicline.audit.service import COLUMNS, record

    patient = str(uuid.uuid4())
    fields = ["given_name", "family_name", "date_of_birth"]
    seqs = iter(range(10**12, 10**13))  # far from the chain's own seqs
    quote = connection.ops.quote_name
    insert = (f"INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608 (fixed names)
              f"({', '.join(map(quote, COLUMNS))}) VALUES ({', '.join(['%s'] * len(COLUMNS))})")

    def chained(i: int) -> None:
        record(Action.VIEW, practice=1, patient=patient, fields=fields, reason="bench")

    def plain(i: int) -> None:
        with transaction.atomic():
            AuditEvent.objects.create(
                seq=next(seqs), at=timezone.now(), practice_id=1, action=Action.VIEW,
                patient_id=patient, fields=",".join(fields), reason="bench",
                prev_hash="0" * 64, hash="f" * 64)

    def plain_sql(i: int) -> None:
        at = connection.ops.adapt_datetimefield_value(timezone.now())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [next(seqs), at, None, "", 1, Action.VIEW.value, "", "",
                                    patient, ",".join(fields), "", "", "bench", "success",
                                    "0" * 64, "f" * 64])

    kinds = {"chained": chained, "plain": plain, "plain_sql": plain_sql}
    for work in kinds.values():
        per_second(100, work)  # warm up connections and caches
    rates: dict[str, list[float]] = {name: [] for name in kinds}
    size = max(count // 10, 1)
    for _ in range(10):
        for name, work in kinds.items():
            rates[name].append(per_second(size, work))
    return {name: statistics.median(values) for name, values in rates.items()}


def build_chain(count: int) -> None:
    """``count`` events with a correct chain, as bulk as the database takes them."""
    from clinicline.audit.chain import GENESIS, hashed_values, link
    from clinicline.audit.models import Action, AuditEvent, AuditHead

    actions = [a.value for a in Action]
    patients = [str(uuid.uuid4()) for _ in range(500)]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    prev, batch = GENESIS, []
    with transaction.atomic():
        AuditEvent.objects.all().delete()
        for seq in range(1, count + 1):
            login = seq % 10 == 0  # practice-less events, as logins are
            event = AuditEvent(
                seq=seq, at=start + dt.timedelta(microseconds=seq * 250_000),  # 1 in 4 on .0
                actor_id=seq % 40 + 1, actor_label=f"member{seq % 40 + 1}",
                practice_id=None if login else seq % 5 + 1, action=actions[seq % len(actions)],
                object_type="" if login else "patients.patient",
                object_id="" if login else patients[seq % 500],
                patient_id="" if login else patients[seq % 500],
                fields="" if login else "given_name,family_name,date_of_birth",
                ip="10.0.0.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                reason="" if seq % 50 else "continuity: on-call coverage",
                prev_hash=prev)
            event.hash = prev = link(prev, hashed_values(event))
            batch.append(event)
            if len(batch) == 5_000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)
        AuditHead.objects.update_or_create(pk=1, defaults={"seq": count, "hash": prev})


def measure_verify(count: int) -> float:
    from clinicline.audit.verify import verify

    rates = []
    for _ in range(3):
        start = time.perf_counter()
        verdict = verify()
        rates.append(count / (time.perf_counter() - start))
        if not verdict.intact or verdict.count != count:
            raise SystemExit(f"bench: the chain it built does not verify: {verdict}")
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2_000, help="appends of each kind")
    parser.add_argument("--events", type=int, default=200_000, help="events to verify")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp), "audit") as url:
        os.environ.update(DATABASE_URL=url, CLINICLINE_DATA_DIR=tmp,
                          DJANGO_SETTINGS_MODULE="clinicline.settings")
        django.setup()
        call_command("migrate", verbosity=0)
        print(f"audit bench on {connection.vendor} {connection.Database.__name__}")
        appends = measure_appends(args.appends)
        chained, plain, plain_sql = appends["chained"], appends["plain"], appends["plain_sql"]
        print(f"appends: {chained:,.0f}/s chained, {plain:,.0f}/s plain (ORM), "
              f"ratio {chained / plain:.2f} (target >= {APPEND_TARGET}); "
              f"{plain_sql:,.0f}/s plain SQL, ratio {chained / plain_sql:.2f}")
        start = time.perf_counter()
        build_chain(args.events)
        print(f"built a chain of {args.events:,} events in {time.perf_counter() - start:.1f} s")
        verify_rate = measure_verify(args.events)
        print(f"verify: {verify_rate:,.0f} events/s (target >= {VERIFY_TARGET:,})")
        connections.close_all()  # before the temporary database is dropped
    print(json.dumps({
        "database": connection.vendor,
        "appends_chained_per_s": round(chained, 1), "appends_plain_per_s": round(plain, 1),
        "append_ratio": round(chained / plain, 3), "appends_plain_sql_per_s": round(plain_sql, 1),
        "append_ratio_vs_sql": round(chained / plain_sql, 3), "verify_events": args.events,
        "verify_per_s": round(verify_rate),
    }))


if __name__ == "__main__":
    main()
