"""Models that moved between apps took their rows with them: a database migrated before the
move (SimulatorEvent and Notice in gateways) is migrated forward, and what was written
then — sealed values included — reads back through the models' new homes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinicline.accounts.roles import Role
from clinicline.inbox.models import Notice
from clinicline.outbox import service
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import make_member, make_practice

# The last migrations before the move, and the first state without the simulator app.
BEFORE = [("gateways", "0003_constraints"), ("inbox", "0005_transcription_retries"),
          ("simulator", None)]
STROKE = "My husband suddenly cannot lift his arm"


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader: it reads what is applied now


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def write_before_the_move(practice_id: int, user_id: int, delivery_id: object) -> tuple:
    """Rows written by the code of the time, through the historical models."""
    executor = migrate(BEFORE)
    old = executor.loader.project_state([t for t in BEFORE if t[1]]).apps
    event = old.get_model("gateways", "SimulatorEvent").objects.create(
        practice_id=practice_id, number="+16175550142", number_index="ab" * 32,
        direction="from-phone", kind="sms", body=STROKE, call_sid="SM" + "0" * 32)
    notice = old.get_model("gateways", "Notice").objects.create(
        practice_id=practice_id, user_id=user_id, delivery_id=delivery_id,
        body="1 new message in Clinical")
    return event.pk, notice.pk


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_read_back_after_it():
    practice = make_practice()
    nurse = make_member(practice, Role.NURSE, "nurse")
    delivery = service.enqueue(practice, channel="in-app", to=str(nurse.pk),
                               body="1 new message in Clinical", purpose="notification",
                               idempotency_key="before-the-move")
    forward = latest()
    try:
        event_pk, notice_pk = write_before_the_move(practice.pk, nurse.pk, delivery.pk)
        assert "simulator" not in {app for app, _ in
                                   MigrationExecutor(connection).loader.applied_migrations}
    finally:
        migrate(forward)

    event = SimulatorEvent.objects.get(pk=event_pk)
    assert event.body == STROKE and event.number == "+16175550142"  # the seal still opens
    notice = Notice.objects.get(pk=notice_pk)
    assert notice.user == nurse and notice.delivery == delivery and notice.read_at is None
    assert Notice._meta.db_table == "inbox_notice"
    assert SimulatorEvent._meta.db_table == "gateways_simulatorevent"


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_undone_and_redone():
    forward = latest()
    try:
        migrate(BEFORE)
        tables = connection.introspection.table_names()
        assert "gateways_notice" in tables and "inbox_notice" not in tables
    finally:
        migrate(forward)
    tables = connection.introspection.table_names()
    assert "inbox_notice" in tables and "gateways_notice" not in tables
