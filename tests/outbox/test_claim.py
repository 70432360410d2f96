"""Claiming is atomic: however many workers run, each due delivery is claimed by one of
them and sent once. Deliveries here go through the loopback gateway, a real transport
whose messages land on the phone simulator's phones."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from clinicline import claims
from clinicline.jobs import job
from clinicline.outbox import jobs, service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import Practice
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import make_practice
from tests.outbox.support import DatabaseFile, on_threads
from tests.support_proc import TIMEOUT_S

WORKERS, DELIVERIES, BATCH = 4, 120, 5


def reminder(practice: Practice, n: int, **extra: Any) -> Delivery:
    return service.enqueue(practice, channel="sms", to=f"+1617555{1000 + n:04d}",
                           body="Riverside Family Medicine: please call us at (617) 555-0100.",
                           purpose="reminder", idempotency_key=f"reminder-{n}", **extra)


@pytest.mark.django_db
def test_a_claimed_delivery_is_not_claimed_again(practice):
    due = reminder(practice, 1)
    later = reminder(practice, 2, due_at=timezone.now() + dt.timedelta(minutes=5))
    claimed = service.claim_due()
    assert [d.pk for d in claimed] == [due.pk]
    assert (claimed[0].status, claimed[0].attempts) == (Status.SENDING, 1)
    assert service.claim_due() == []  # neither the claimed one nor the one not yet due
    later.refresh_from_db()
    assert (later.status, later.attempts) == (Status.QUEUED, 0)


@pytest.mark.django_db
def test_a_batch_with_a_row_taken_meanwhile_is_taken_row_by_row(practice):
    """One UPDATE takes a whole batch only when it touches every row; when another worker
    took one between the read and the UPDATE, the UPDATE is undone and the others are
    taken one by one (here the taken row is simply one no longer due)."""
    rows = [reminder(practice, n) for n in range(3)]
    Delivery.objects.filter(pk=rows[1].pk).update(status=Status.SENDING)
    due = Delivery.objects.filter(status=Status.QUEUED)
    pks = [r.pk for r in rows]
    assert claims._take_all(due, pks, {"status": Status.SENDING}) == []
    assert Delivery.objects.filter(status=Status.QUEUED).count() == 2  # nothing taken
    assert claims._take_all(due, [pks[0], pks[2]], {"status": Status.SENDING}) == [
        pks[0], pks[2]]
    assert not Delivery.objects.filter(status=Status.QUEUED).exists()


@pytest.mark.django_db
def test_the_worker_sends_what_is_due_to_the_simulated_phone(practice):
    delivery = reminder(practice, 1)
    assert service.send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.transport, delivery.attempts) == (Status.SENT, "loopback", 1)
    event = SimulatorEvent.objects.get(delivery=delivery)
    assert (event.number, event.kind, event.body) == (delivery.to, "sms", delivery.body)
    assert delivery.vendor_id.startswith("SM") and delivery.sent_at is not None
    assert service.send_due() == 0


# Each worker claims a first batch, then waits until every worker holds one: all of them
# had claims at once (concurrency, not taking turns), and none can be starved by a slow
# start on a busy machine. There are more deliveries than WORKERS * BATCH.
WORK_UNTIL_DONE = f"""
claimed = []
first = service.claim_due(limit={BATCH})
(signals / f"claimed-{{n}}").touch()
while len(list(signals.glob("claimed-*"))) < {WORKERS}:
    time.sleep(0.005)
batch = first
while batch:
    for delivery in batch:
        service.send(delivery)
        claimed.append(str(delivery.pk))
    batch = service.claim_due(limit={BATCH})
print(json.dumps(claimed))
"""


def work_until_done(everyone_holds_a_batch: threading.Barrier) -> list[str]:
    claimed = []
    batch = service.claim_due(limit=BATCH)
    everyone_holds_a_batch.wait()
    while batch:
        for delivery in batch:
            service.send(delivery)
            claimed.append(str(delivery.pk))
        batch = service.claim_due(limit=BATCH)
    return claimed


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_sets_and_send_each_once(tmp_path):
    if connection.vendor == "postgresql":
        practice = make_practice()
        for n in range(DELIVERIES):
            reminder(practice, n)
        barrier = threading.Barrier(WORKERS, timeout=TIMEOUT_S)
        claims = on_threads(WORKERS, lambda _: work_until_done(barrier))
        statuses = Counter(Delivery.objects.values_list("status", "attempts"))
        sent = Counter(SimulatorEvent.objects.values_list("delivery_id", flat=True))
        all_ids = {str(pk) for pk in Delivery.objects.values_list("pk", flat=True)}
    else:
        database = DatabaseFile(tmp_path, deliveries=DELIVERIES)
        claims = database.on_processes(WORKERS, WORK_UNTIL_DONE)
        with sqlite3.connect(database.path) as db:
            statuses = Counter(db.execute(
                f"SELECT status, attempts FROM {Delivery._meta.db_table}"))  # noqa: S608
            sent = Counter(uuid.UUID(d) for (d,) in db.execute(
                f"SELECT delivery_id FROM {SimulatorEvent._meta.db_table}"))  # noqa: S608
            all_ids = {str(uuid.UUID(pk)) for (pk,) in db.execute(
                f"SELECT id FROM {Delivery._meta.db_table}")}  # noqa: S608

    claimed = [pk for claim in claims for pk in claim]
    assert len(claimed) == len(set(claimed)) == DELIVERIES  # disjoint, and nothing missed
    assert set(claimed) == all_ids
    # Every worker held a batch while the others held theirs: the claims were concurrent.
    assert all(claims), [len(c) for c in claims]
    assert statuses == {(Status.SENT, 1): DELIVERIES}
    assert len(sent) == DELIVERIES and set(sent.values()) == {1}  # each sent exactly once


@pytest.mark.django_db
def test_the_worker_job_sends_batch_after_batch_within_its_tick(practice):
    for n in range(2 * service.CLAIM_BATCH + 5):
        reminder(practice, n)
    assert jobs.send_due(budget_s=0) == service.CLAIM_BATCH  # a spent tick ends after one
    assert jobs.send_due(budget_s=60) == service.CLAIM_BATCH + 5  # else batch after batch
    assert not Delivery.objects.exclude(status=Status.SENT).exists()
    assert job("outbox").run() == 0
