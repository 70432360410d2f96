"""The reminder job's reads of many rows take the indexes made for them, on both databases:
a read that scanned a table would cost more with every decision and text ever made."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from clinicline.outbox.service import queued_as, unsaved
from clinicline.outreach import decisions
from tests.conftest import make_practice

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)


def plan(queryset) -> str:  # noqa: ANN001
    """The query's plan, with PostgreSQL told to read a table whole only when no index
    serves (its tables are nearly empty here, so it would otherwise choose to)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def scanned(text: str) -> bool:
    return ("Seq Scan" in text if connection.vendor == "postgresql"
            else any(line.split()[3:4] == ["SCAN"] for line in text.splitlines()))


def test_a_batchs_caps_are_read_from_the_caps_index():
    caps = decisions._sent_within_week(NOW).filter(
        patient__in=[uuid.uuid4() for _ in range(300)]).values_list("patient_id", "decided_at")
    text = plan(caps)
    assert "decision_caps" in text and not scanned(text), text


def test_the_deferred_attempts_due_are_read_from_their_own_index():
    text = plan(decisions.due_deferred(NOW))
    assert "decision_deferred" in text, text


def test_a_batchs_queued_keys_are_read_from_the_unique_index():
    one, other = make_practice(), make_practice("hillside", "Hillside Clinic")
    batch = [unsaved(practice, channel="sms", to="+16175550142", body="Please call us.",
                     purpose="appointment-reminders", idempotency_key=f"reminder-{n}")
             for n in range(300) for practice in (one, other)]
    text = plan(queued_as(batch))
    assert not scanned(text), text  # by key alone, SQLite read the whole table
