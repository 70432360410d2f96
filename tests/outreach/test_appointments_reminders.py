"""The reminder job: due reminders claimed through ``claim_due`` and handed to
``send_reminder``, which puts each through the sending decision: the practice's approved
text to the patient's verified mobile where they consented, or a recorded reason why not.
Reminder runs go in batches and resume."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.utils import timezone

from clinicline import claims
from clinicline.accounts.roles import Role
from clinicline.jobs import job
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status
from clinicline.outreach import appointments, reminders
from clinicline.outreach.appointment_models import (
    Appointment,
    Reminder,
    ReminderRun,
    ReminderStatus,
    RunState,
)
from clinicline.patients.models import ContactPoint
from clinicline.practices.models import Provider
from clinicline.simulator.models import SimulatorEvent
from clinicline.worker import Worker
from tests.conftest import make_member, make_patient
from tests.outreach.support import WALTER_MOBILE, consents, dr_osei, row, walter
from tests.support_proc import TIMEOUT_S

# 2 Dec 2026, 14:30 in Boston, the practice's zone; the week's reminder is due on 25 Nov.
VISIT = dt.datetime(2026, 12, 2, 19, 30, tzinfo=dt.UTC)
WEEK_BEFORE = VISIT - dt.timedelta(days=7)


@pytest.fixture
def front_desk(practice):
    return make_member(practice, Role.FRONT_DESK, "fatima")


def booked(practice, front_desk, patient=None, external_id="A-1001") -> Appointment:
    patient = patient or walter(practice)
    consents(patient, front_desk)
    Provider.objects.get_or_create(practice=practice, display_name="Dr. Amara Osei")
    appointments.import_appointments(
        practice, [row(external_id=external_id, starts_at=VISIT, mrn=patient.mrn)],
        by=front_desk, now=WEEK_BEFORE - dt.timedelta(days=1))
    return Appointment.objects.get(external_id=external_id)


def week_reminder(appointment: Appointment) -> Reminder:
    return Reminder.objects.get(appointment=appointment, offset_h=168,
                                status=ReminderStatus.PENDING)


@pytest.mark.django_db
def test_a_due_reminder_is_texted_to_the_verified_mobile_in_the_practices_words(
        practice, front_desk):
    appointment = booked(practice, front_desk)
    assert reminders.send_due(now=WEEK_BEFORE - dt.timedelta(minutes=1)) == 0  # not yet
    assert reminders.send_due(now=WEEK_BEFORE) == 1
    sent = Reminder.objects.get(appointment=appointment, offset_h=168)
    assert (sent.status, sent.reason) == (ReminderStatus.SENT, "")
    delivery = sent.delivery
    assert (delivery.channel, delivery.to, delivery.purpose) == (
        "sms", WALTER_MOBILE, "appointment-reminders")
    assert delivery.body == ("Riverside Family Medicine: appt Wed Dec 2 at 2:30 PM. Reply C to "
                             "confirm, R to reschedule. Call 617-555-0100. Reply STOP to opt "
                             "out.")
    assert delivery.patient_id == appointment.patient_id
    assert reminders.send_due(now=WEEK_BEFORE) == 0  # decided once
    # The two-day reminder is still to come.
    assert Reminder.objects.get(appointment=appointment, offset_h=48).status == "pending"


@pytest.mark.django_db
def test_the_reminder_text_passes_the_outboxs_last_screen(practice, front_desk):
    booked(practice, front_desk)
    reminders.send_due(now=WEEK_BEFORE)
    assert outbox.refused(Delivery.objects.get()) == []


@pytest.mark.django_db
def test_without_a_verified_mobile_the_reminder_is_withheld_and_says_why(practice, front_desk):
    patient = walter(practice, verified=False)
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    withheld = Reminder.objects.get(appointment=appointment, offset_h=168)
    assert (withheld.status, withheld.reason, withheld.delivery) == (
        ReminderStatus.WITHHELD, "unverified-contact", None)
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_verified_number_that_is_not_a_phone_number_is_withheld(practice, front_desk):
    patient = walter(practice)
    contact = ContactPoint.objects.get(patient=patient)
    contact.value = "+1555"  # imported from an old system, before numbers were checked
    contact.save()
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    assert Reminder.objects.get(appointment=appointment, offset_h=168).reason == "invalid-number"
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_reminder_confirmed_after_it_was_claimed_is_not_sent(practice, front_desk):
    appointment = booked(practice, front_desk)
    [claimed] = reminders.claim(reminders.due_reminders(WEEK_BEFORE), 5, WEEK_BEFORE)
    Appointment.objects.filter(pk=appointment.pk).update(status="confirmed")
    claimed.appointment.refresh_from_db()
    assert reminders.send_reminder(claimed, WEEK_BEFORE) == ReminderStatus.SKIPPED_CONFIRMED
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_claimed_reminder_is_not_claimed_again_until_its_lease_runs_out(practice, front_desk):
    booked(practice, front_desk)
    assert len(reminders.claim(reminders.due_reminders(WEEK_BEFORE), 5, WEEK_BEFORE)) == 1
    assert reminders.send_due(now=WEEK_BEFORE) == 0
    later = WEEK_BEFORE + reminders.LEASE + dt.timedelta(seconds=1)
    assert reminders.send_due(now=later) == 1  # the worker that held it died
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_sends_a_due_reminder_to_the_simulated_phone(practice, front_desk):
    """The real worker, its real timers, the registered jobs: the reminder becomes an
    outbox row and the outbox sends it over the loopback gateway."""
    patient = walter(practice)
    consents(patient, front_desk)
    dr_osei(practice)
    appointments.import_appointments(practice, [row(in_days=3, mrn=patient.mrn)], by=front_desk)
    # Quiet hours hold a text back at night in Boston: the worker runs at 10:00 there, the
    # next morning (the reminder is due at once; the appointment is three days off).
    morning = dt.datetime.combine(timezone.now().date() + dt.timedelta(days=1), dt.time(15),
                                  tzinfo=dt.UTC)
    traveller = time_machine.travel(morning, tick=True)
    traveller.start()
    worker = Worker([job("reminders"), job("outbox")], poll_s=0.05)
    thread = threading.Thread(target=worker.loop, args=(worker.jobs,))
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and not SimulatorEvent.objects.exists():
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(TIMEOUT_S)
        traveller.stop()
    delivery = Reminder.objects.get(status=ReminderStatus.SENT).delivery
    assert delivery.status in (Status.SENT, Status.DELIVERED)
    assert SimulatorEvent.objects.get().body == delivery.body


def many(practice, front_desk, n: int) -> list[Appointment]:
    dr_osei(practice)
    people = [make_patient(practice, f"Pat{i}", "Lee", dt.date(1970, 1, 1 + i % 28),
                           phone=f"+1617555{2000 + i:04d}", mrn=f"RFM-2{i:05d}")
              for i in range(n)]
    ContactPoint.objects.update(verified_at=timezone.now())
    for patient in people:
        consents(patient, front_desk)
    appointments.import_appointments(
        practice, [row(i + 2, f"A-{i}", starts_at=VISIT + dt.timedelta(minutes=i),
                       mrn=p.mrn) for i, p in enumerate(people)],
        by=front_desk, now=WEEK_BEFORE - dt.timedelta(days=1))
    return list(Appointment.objects.all())


@pytest.mark.django_db
def test_a_run_goes_in_batches_and_resumes_where_a_dead_worker_left_it(practice, front_desk):
    many(practice, front_desk, 7)
    at = WEEK_BEFORE + dt.timedelta(hours=1)
    run = reminders.start_run(practice, by=front_desk, now=at)
    assert (run.total, run.state) == (7, RunState.QUEUED)

    assert reminders.advance_runs(batch=3, now=at) == 3
    run.refresh_from_db()
    assert (run.done, run.sent, run.state) == (3, 3, RunState.RUNNING)
    cursor = (run.cursor_send_at, run.cursor_id)

    # A worker takes the next batch and dies before it does anything.
    assert claims.claim_due(reminders.due_runs(at), 1, claimed_at=at) != []
    assert reminders.advance_runs(batch=3, now=at) == 0  # its lease holds
    run.refresh_from_db()
    assert (run.done, (run.cursor_send_at, run.cursor_id)) == (3, cursor)

    # The restarted worker, once the lease is out, goes on from the cursor.
    later = at + reminders.LEASE + dt.timedelta(seconds=1)
    while reminders.advance_runs(batch=3, now=later):
        pass
    run.refresh_from_db()
    assert (run.done, run.sent, run.state) == (7, 7, RunState.DONE)
    assert Delivery.objects.count() == 7  # each reminder once
    assert set(Reminder.objects.filter(offset_h=168).values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_run_counts_the_reminders_the_regular_job_sent_first(practice, front_desk):
    many(practice, front_desk, 4)
    at = WEEK_BEFORE + dt.timedelta(hours=1)
    run = reminders.start_run(practice, by=front_desk, now=at)
    assert reminders.send_due(limit=2, now=at) == 2
    while reminders.advance_runs(now=at):
        pass
    run.refresh_from_db()
    assert (run.done, run.sent, run.state) == (4, 2, RunState.DONE)
    assert Delivery.objects.count() == 4


@pytest.mark.django_db
def test_a_run_with_nothing_due_is_done_at_once(practice, front_desk):
    run = reminders.start_run(practice, by=front_desk)
    assert (run.total, run.state) == (0, RunState.DONE)
    assert ReminderRun.objects.get().percent == 100


@pytest.mark.django_db
def test_a_second_run_leaves_the_first_its_reminders(practice, front_desk):
    many(practice, front_desk, 3)
    at = WEEK_BEFORE + dt.timedelta(hours=1)
    first = reminders.start_run(practice, by=front_desk, now=at)
    second = reminders.start_run(practice, by=front_desk, now=at)
    assert (first.total, second.total, second.state) == (3, 0, RunState.DONE)
    while reminders.advance_runs(now=at):
        pass
    first.refresh_from_db()
    assert (first.done, first.sent, first.state) == (3, 3, RunState.DONE)
