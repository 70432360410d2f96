"""The hash chain: what record() appends, verify() accepts; any change made behind the
application's back (raw SQL here) is found, and the first broken event is named."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from clinicline.audit.chain import GENESIS, canonical, canonical_sql, hashed_values, link
from clinicline.audit.models import Action, AuditEvent, AuditHead, Outcome
from clinicline.audit.service import COLUMNS, record
from clinicline.audit.verify import verify

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{t}", TABLE), params)


def chain_of(n: int, practice_id: int | None = 7) -> list[AuditEvent]:
    return [record(Action.VIEW, actor=None, practice=practice_id, patient=f"p-{i}",
                   fields=["given_name"], reason=f"event {i}") for i in range(1, n + 1)]


def test_recorded_events_verify_intact():
    events = chain_of(5) + [record(Action.LOGIN_FAILED, outcome=Outcome.FAILURE)]
    verdict = verify()
    assert verdict.intact, verdict
    assert (verdict.count, verdict.head_hash) == (6, events[-1].hash)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_an_empty_trail_is_intact():
    assert verify().intact and verify().count == 0


@pytest.mark.parametrize("micro", [0, 1, 123456, 999999])
def test_times_with_and_without_microseconds_hash_alike_in_python_and_sql(micro):
    """SQLite hands back the text Django stored (no fraction when it is zero), PostgreSQL a
    timestamp: both must give the canonical text that record() hashed."""
    moment = dt.datetime(2026, 3, 8, 6, 59, 59, micro, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        event = record(Action.UPDATE, practice=3, patient="ab-12", fields=["a", "b"],
                       reason="Zoë ☎ naïve\nsecond line")
    assert AuditEvent.objects.get(pk=event.pk).at == moment
    assert verify().intact
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {canonical_sql(connection.vendor, connection.ops.quote_name)} "  # noqa: S608
                       f"FROM {TABLE} WHERE id = %s", [event.pk])
        (text,) = cursor.fetchone()
    assert text == canonical(hashed_values(event))
    assert f"2026-03-08 06:59:59.{micro:06d}" in text


def test_an_aware_time_in_another_zone_hashes_as_its_utc_instant():
    new_york = dt.datetime(2026, 3, 8, 1, 59, 59, 500, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    utc = new_york.astimezone(dt.UTC)
    naive_utc = utc.replace(tzinfo=None)
    assert canonical([new_york]) == canonical([utc]) == canonical([naive_utc]) \
        == "2026-03-08 06:59:59.000500"


def test_the_separator_and_nul_never_reach_the_chain():
    event = record(Action.DENIED, reason="a\x1fb\x00c", outcome=Outcome.DENIED)
    assert event.reason == "a bc"
    assert verify().intact


def test_link_depends_on_every_hashed_value():
    event = chain_of(1)[0]
    values = hashed_values(event)
    for i in range(len(values)):
        changed = list(values)
        changed[i] = "x" if values[i] in (None, "") else None
        assert link(GENESIS, changed) != event.hash, i


# --- tampering -------------------------------------------------------------------------

def test_a_changed_row_is_named():
    events = chain_of(5)
    sql("UPDATE {t} SET reason = %s WHERE seq = 3", "nothing to see")
    verdict = verify()
    assert (verdict.broken_seq, verdict.broken_id, verdict.count) == (3, events[2].pk, 2)
    assert "changed" in verdict.problem


def test_a_time_moved_by_one_microsecond_is_found():
    events = chain_of(3)
    moved = events[1].at + dt.timedelta(microseconds=1)
    AuditEvent.objects.filter(pk=events[1].pk).update(at=moved)  # the ORM is "behind" too
    assert verify().broken_seq == 2


def test_a_row_rehashed_by_the_tamperer_breaks_the_next_link():
    events = chain_of(5)
    event = AuditEvent.objects.get(seq=3)
    event.reason = "rewritten"
    forged = link(event.prev_hash, hashed_values(event))
    sql("UPDATE {t} SET reason = %s, hash = %s WHERE seq = 3", "rewritten", forged)
    verdict = verify()
    assert (verdict.broken_seq, verdict.broken_id) == (4, events[3].pk)
    assert "link" in verdict.problem


def test_a_deleted_row_is_named_by_the_event_after_it():
    events = chain_of(5)
    sql("DELETE FROM {t} WHERE seq = 3")
    verdict = verify()
    assert (verdict.broken_seq, verdict.broken_id) == (4, events[3].pk)
    assert "#3 is missing" in verdict.problem


def test_deleting_the_newest_rows_is_caught_by_the_head():
    events = chain_of(5)
    sql("DELETE FROM {t} WHERE seq >= 4")
    verdict = verify()
    assert not verdict.intact
    assert (verdict.broken_seq, verdict.broken_id, verdict.count) == (4, None, 3)
    assert verdict.head_hash == events[2].hash
    assert "it and those after it to #5 are missing (deleted)" in verdict.problem


def _insert(seq: int, prev_hash: str, **values: object) -> None:
    row = {"seq": seq, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "actor_id": None,
           "actor_label": "", "practice_id": 7, "action": Action.VIEW, "object_type": "",
           "object_id": "", "patient_id": "", "fields": "", "ip": "", "user_agent": "",
           "reason": "", "outcome": Outcome.SUCCESS, **values}
    event = AuditEvent(**row)
    row["hash"] = link(prev_hash, hashed_values(event))
    row["prev_hash"] = prev_hash
    row["at"] = connection.ops.adapt_datetimefield_value(row["at"])
    columns = ", ".join(row)
    sql(f"INSERT INTO {{t}} ({columns}) VALUES ({', '.join(['%s'] * len(row))})",  # noqa: S608
        *row.values())


def test_a_well_forged_row_appended_behind_the_applications_back_is_found():
    events = chain_of(3)
    _insert(4, events[-1].hash, reason="alibi")  # a correct link, but the head never moved
    verdict = verify()
    assert verdict.broken_seq == 4
    assert verdict.broken_id == AuditEvent.objects.get(seq=4).pk
    assert "past the chain's head" in verdict.problem
    assert verdict.count == 3


def test_a_row_inserted_before_the_first_is_found():
    chain_of(3)
    _insert(0, GENESIS)
    verdict = verify()
    assert verdict.broken_seq == 0 and "out of sequence" in verdict.problem


def test_reordered_rows_are_found():
    events = chain_of(4)
    sql("UPDATE {t} SET seq = -2 WHERE seq = 2")
    sql("UPDATE {t} SET seq = 2 WHERE seq = 3")
    sql("UPDATE {t} SET seq = 3 WHERE seq = -2")
    verdict = verify()
    assert (verdict.broken_seq, verdict.broken_id) == (2, events[2].pk)


def test_a_head_set_back_with_the_tail_is_the_limit_of_what_a_chain_can_show():
    """Deleting the tail and setting the head back to match is indistinguishable from a
    shorter honest trail; only a copy kept elsewhere (an export) shows it."""
    events = chain_of(4)
    sql("DELETE FROM {t} WHERE seq = 4")
    AuditHead.objects.filter(pk=1).update(seq=3, hash=events[3].hash)
    verdict = verify()  # half a job: the head names #3 but holds #4's hash
    assert (verdict.broken_seq, verdict.broken_id) == (3, events[2].pk)
    assert "not the event the chain's head recorded" in verdict.problem
    AuditHead.objects.filter(pk=1).update(seq=3, hash=events[2].hash)
    assert verify().intact


# --- the command -------------------------------------------------------------------------

def test_command_reports_an_intact_chain_with_its_head():
    events = chain_of(3)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"intact: 3 events, head {events[-1].hash}" in out.getvalue()


def test_command_exits_1_naming_the_first_broken_event():
    events = chain_of(4)
    sql("UPDATE {t} SET actor_label = %s WHERE seq = 2", "someone-else")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_audit", stderr=err)
    assert exit_.value.code == 1
    assert f"broken at event #2 (id {events[1].pk}): it was changed" in err.getvalue()


def test_command_exits_1_when_the_newest_events_were_deleted():
    chain_of(4)
    sql("DELETE FROM {t} WHERE seq = 4")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_audit", stderr=err)
    assert exit_.value.code == 1
    assert "broken at event #4: it is missing (deleted): the chain ends at #3" in err.getvalue()


def test_every_column_but_the_id_and_hashes_is_hashed():
    """A column added to AuditEvent but not to the chain could be changed unnoticed, and
    record()'s INSERT would leave it out."""
    columns = [f.column for f in AuditEvent._meta.concrete_fields]
    assert columns == ["id", *COLUMNS]


def test_record_returns_the_saved_event():
    event = record(Action.BREAK_GLASS, actor=None, practice="12", patient=uuid.UUID(int=5),
                   fields=("given_name", "mrn"), reason="emergency: unconscious on arrival")
    stored = AuditEvent.objects.get(pk=event.pk)
    assert [getattr(stored, c) for c in COLUMNS] == [getattr(event, c) for c in COLUMNS]
    assert stored.practice_id == 12 and stored.patient_id == str(uuid.UUID(int=5))
    assert not event._state.adding
