"""Enqueueing is idempotent by key: the domain may ask twice (a retried webhook, a worker
that restarts mid-step) and one message goes out."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import Practice
from tests.conftest import make_practice
from tests.outbox.support import DatabaseFile, on_threads

BODY = "Riverside Family Medicine: please call us at (617) 555-0100."


def ask(practice: Practice, key: str = "reminder-1", body: str = BODY) -> Delivery:
    return service.enqueue(practice, channel="sms", to="+16175550142", body=body,
                           purpose="reminder", idempotency_key=key)


@pytest.mark.django_db
def test_the_same_key_is_one_delivery(practice):
    first = ask(practice)
    again = ask(practice, body="a different text under the same key")
    assert again.pk == first.pk
    assert Delivery.objects.count() == 1
    assert Delivery.objects.get().body == BODY  # the first request's content stands
    assert (first.status, first.attempts) == (Status.QUEUED, 0)


@pytest.mark.django_db
def test_keys_are_per_practice(practice, other_practice):
    assert ask(practice).pk != ask(other_practice).pk
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("change,message", [
    ({"channel": "pigeon"}, "unknown channel"),
    ({"idempotency_key": ""}, "idempotency key"),
    ({"idempotency_key": "k" * 129}, "idempotency key"),
])
def test_bad_requests_are_refused_before_a_row_exists(practice, change, message):
    request = {"channel": "sms", "to": "+16175550142", "body": BODY, "purpose": "reminder",
               "idempotency_key": "k1", **change}
    with pytest.raises(ValueError, match=message):
        service.enqueue(practice, **request)
    assert not Delivery.objects.exists()


SAME_KEY = """
delivery = service.enqueue(practice, channel="sms", to="+16175550142", body="Call us.",
                           purpose="reminder", idempotency_key="same")
print(json.dumps(str(delivery.pk)))
"""


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_of_one_key_make_one_delivery(tmp_path):
    enqueuers = 6
    if connection.vendor == "postgresql":
        practice = make_practice()
        # The practice's data key exists before the race: this test is about the outbox's
        # idempotency key, not the vault's making of a practice's first data key.
        ask(practice, key="earlier")
        pks = [str(d.pk) for d in on_threads(enqueuers, lambda n: ask(practice, key="same"))]
        rows = Delivery.objects.filter(idempotency_key="same").count()
    else:
        database = DatabaseFile(tmp_path)
        pks = database.on_processes(enqueuers, SAME_KEY)
        with sqlite3.connect(database.path) as db:
            (rows,), = db.execute(f"SELECT count(*) FROM {Delivery._meta.db_table}")  # noqa: S608
    assert rows == 1
    assert len(pks) == enqueuers and len(set(pks)) == 1
