"""The reminder job claims and decides a batch together (``reminders.decide_due``): a fixed
number of queries however large the batch, the same decisions as one at a time, and a
batch that raises decided again one by one, so that one reminder's fault holds back none
of the others."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicline.outbox.models import Delivery
from clinicline.outreach import appointments, decisions, reminders
from clinicline.outreach.appointment_models import Reminder, ReminderStatus
from clinicline.outreach.decision_models import SendingPolicy
from clinicline.patients.models import ContactPoint
from tests.conftest import make_patient
from tests.outreach.support import consents, row
from tests.outreach.test_appointments_reminders import VISIT, WEEK_BEFORE, booked, front_desk

pytestmark = pytest.mark.django_db
__all__ = ["front_desk"]  # the fixture, shared


def patients_booked(practice, front_desk, count: int, first: int = 0) -> list:
    made = []
    for n in range(first, first + count):
        patient = make_patient(practice, f"Pat{n}", "Lee", dt.date(1960, 1, 1 + n),
                               f"+1617555{2000 + n:04d}", mrn=f"RFM-30{n:02d}")
        ContactPoint.objects.filter(patient=patient).update(verified_at=WEEK_BEFORE
                                                            - dt.timedelta(days=30))
        made.append(booked(practice, front_desk, patient, external_id=f"B-{n}"))
    return made


def queries_to_send(practice, front_desk, count: int, first: int) -> int:
    patients_booked(practice, front_desk, count, first)
    with CaptureQueriesContext(connection) as queries:
        assert reminders.send_due(limit=50, now=WEEK_BEFORE) == count
    # Not the vault's reads of the practice's data key: made in the test's own transaction,
    # it is never cached (see vault.keyring); a committed one is read once a process.
    return sum("vault_datakey" not in q["sql"] for q in queries.captured_queries)


def test_a_batch_takes_as_many_queries_for_twelve_reminders_as_for_three(practice,
                                                                        front_desk):
    queries_to_send(practice, front_desk, 1, 30)  # what a process reads once is read
    assert queries_to_send(practice, front_desk, 3, 0) == queries_to_send(
        practice, front_desk, 12, 10)
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 16
    assert Delivery.objects.count() == 16


def test_one_reminder_that_raises_undoes_the_batch_and_the_others_go_one_by_one(
        practice, front_desk, monkeypatch, caplog):
    made = patients_booked(practice, front_desk, 3)
    broken = made[1].patient_id
    real = decisions.reminder_channel

    def channel(patient, now):
        if patient.pk == broken:
            raise RuntimeError("Pat1 Lee, 1960-01-02")  # a bug whose message holds PHI
        return real(patient, now)

    monkeypatch.setattr(decisions, "reminder_channel", channel)
    with caplog.at_level(logging.WARNING, logger="clinicline.outreach"):
        assert reminders.send_due(now=WEEK_BEFORE) == 2
    status = dict(Reminder.objects.filter(offset_h=168).values_list("appointment__patient_id",
                                                                    "status"))
    assert status == {made[0].patient_id: "sent", broken: "pending",
                      made[2].patient_id: "sent"}
    assert Delivery.objects.count() == 2
    assert "a batch of 3 reminders is decided one by one: RuntimeError" in caplog.messages
    assert not any("Pat1" in m or "1960" in m for m in caplog.messages)


def test_two_reminders_of_one_patient_in_one_batch_keep_to_the_days_cap(practice, front_desk):
    SendingPolicy.objects.create(practice=practice, per_day=1)
    [first] = patients_booked(practice, front_desk, 1)
    consents(first.patient, front_desk)
    appointments.import_appointments(
        practice, [row(external_id="B-second", starts_at=VISIT + dt.timedelta(hours=1),
                       mrn=first.patient.mrn)], by=front_desk,
        now=WEEK_BEFORE - dt.timedelta(days=1))
    assert reminders.send_due(now=WEEK_BEFORE + dt.timedelta(hours=1)) == 2
    reasons = sorted(Reminder.objects.filter(offset_h=168).values_list("reason", flat=True))
    assert reasons == ["", "frequency-cap"]
    assert Delivery.objects.count() == 1


def test_a_batch_is_claimed_and_decided_in_one_transaction(practice, front_desk, monkeypatch):
    """Nothing of a batch is half done: a fault that stops the whole batch (here, even its
    one-by-one fallback) undoes its claim with it, so its reminders are due again at once
    rather than held by a lease no worker is deciding under."""
    patients_booked(practice, front_desk, 2)

    def broken(patients):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(decisions, "preload", broken)
    with pytest.raises(RuntimeError):
        reminders.send_due(now=WEEK_BEFORE)
    week = Reminder.objects.filter(offset_h=168)
    assert list(week.values_list("status", "claimed_at").distinct()) == [("pending", None)]
    monkeypatch.undo()
    assert reminders.send_due(now=WEEK_BEFORE) == 2
    assert Delivery.objects.count() == 2


def test_a_reminder_sent_alone_reads_its_patients_preferences_once(practice, front_desk):
    [appointment] = patients_booked(practice, front_desk, 1)
    [claimed] = reminders.claim(reminders.due_reminders(WEEK_BEFORE), 5, WEEK_BEFORE)
    with CaptureQueriesContext(connection) as queries:
        assert reminders.send_reminder(claimed, WEEK_BEFORE) == ReminderStatus.SENT
    read = [q for q in queries if "patients_contactpreference" in q["sql"]]
    assert len(read) == 1


def test_words_holding_a_secure_link_are_kept_in_no_cache_of_the_guard(practice, front_desk):
    """The guard's reuse cache holds rendered words; a results link's token is a secret."""
    from clinicline.outreach import results
    from clinicline.phiguard import guard

    [appointment] = patients_booked(practice, front_desk, 1)
    patient = appointment.patient
    consents(patient, front_desk, purpose="results-ready")
    consents(patient, front_desk, channel="portal", purpose="results-ready")
    guard._recipientless.cache_clear()
    reminders.send_due(now=WEEK_BEFORE)  # a reminder's words, which hold no link, are kept
    kept = guard._recipientless.cache_info().currsize
    assert kept > 0
    asked = results.request(practice, patient, by=front_desk, channel="sms",
                            now=WEEK_BEFORE + dt.timedelta(days=1))
    assert asked.decision.outcome == "sent" and asked.token in str(asked.decision.delivery.body)
    assert guard._recipientless.cache_info().currsize == kept


def test_a_text_queued_before_for_the_reminder_is_not_queued_twice(practice, front_desk):
    """The outbox keys each reminder's text by the reminder: one already queued (a worker
    that died after queuing it, before recording its decision) is the one the batch's
    decision names."""
    from clinicline.outbox import service as outbox

    made = patients_booked(practice, front_desk, 2)
    first = Reminder.objects.get(appointment=made[0], offset_h=168)
    earlier = outbox.enqueue(practice, channel="sms", to="+16175552000", body="earlier",
                             purpose="appointment-reminders",
                             idempotency_key=f"reminder-{first.pk}")
    assert reminders.send_due(now=WEEK_BEFORE) == 2
    first.refresh_from_db()
    assert first.delivery_id == earlier.pk and first.status == ReminderStatus.SENT
    assert Delivery.objects.count() == 2
