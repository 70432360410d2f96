"""Appointments come in through ``import_appointments`` (the CSV page and the API share
it): idempotent, atomic, audited by counts, and each gets its reminders at the practice's
offsets; a moved, confirmed or cancelled appointment changes its reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.outreach import appointments, reminders
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderStatus,
)
from tests.conftest import make_member, make_patient, phi_in_audit
from tests.outreach.support import book, dr_osei, row, walter

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_desk(practice):
    return make_member(practice, Role.FRONT_DESK, "fatima")


@pytest.fixture
def clinic(practice):
    return walter(practice), dr_osei(practice)


def statuses(appointment: Appointment) -> dict[int, tuple[str, str]]:
    return {r.offset_h: (r.status, r.reason)
            for r in Reminder.objects.filter(appointment=appointment)
            .exclude(status=ReminderStatus.CANCELLED)}


def test_an_imported_appointment_is_reminded_7_and_2_days_before(practice, front_desk, clinic):
    result = book(practice, front_desk)
    assert (result.created, result.updated, result.unchanged, result.problems) == (1, 0, 0, [])
    appointment = Appointment.objects.get(practice=practice, external_id="A-1001")
    assert appointment.patient == clinic[0] and appointment.provider == clinic[1]
    made = {r.offset_h: r.send_at for r in Reminder.objects.filter(appointment=appointment,
                                                                   status=ReminderStatus.PENDING)}
    assert made == {168: appointment.starts_at - dt.timedelta(days=7),
                    48: appointment.starts_at - dt.timedelta(days=2)}


def test_importing_the_same_rows_again_changes_nothing(practice, front_desk, clinic):
    rows = (row(2, "A-1"), row(3, "A-2", in_days=12))
    book(practice, front_desk, *rows)
    before = sorted(Reminder.objects.values_list("pk", "status", "send_at"))
    again = book(practice, front_desk, *rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Appointment.objects.count() == 2
    assert sorted(Reminder.objects.values_list("pk", "status", "send_at")) == before


def test_the_import_is_audited_by_its_counts_alone(practice, front_desk, clinic):
    book(practice, front_desk, row(2, "A-1"), row(3, "A-2", mrn="RFM-999999"))
    event = AuditEvent.objects.get(action=Action.APPOINTMENT_IMPORT)
    assert event.actor_id == front_desk.pk and event.practice_id == practice.pk
    assert event.reason == "1 created, 0 updated, 0 unchanged, 1 lines refused"
    assert phi_in_audit(event, ["Walter", "Okafor", "RFM-100142", "RFM-999999", "Osei",
                                "Main St"]) == []


def test_a_moved_appointment_cancels_its_reminders_and_makes_new_ones(practice, front_desk,
                                                                      clinic):
    book(practice, front_desk, row(in_days=10))
    result = book(practice, front_desk, row(in_days=20))
    assert result.updated == 1
    appointment = Appointment.objects.get()
    old = Reminder.objects.filter(appointment=appointment, status=ReminderStatus.CANCELLED)
    assert sorted(old.values_list("offset_h", "reason")) == [(48, "moved"), (168, "moved")]
    new = Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING)
    assert {r.send_at for r in new} == {appointment.starts_at - dt.timedelta(days=7),
                                        appointment.starts_at - dt.timedelta(days=2)}


def test_a_new_location_alone_keeps_the_reminders(practice, front_desk, clinic):
    book(practice, front_desk, row())
    before = set(Reminder.objects.values_list("pk", flat=True))
    assert book(practice, front_desk, row(location="Elm St clinic")).updated == 1
    assert Appointment.objects.get().location == "Elm St clinic"
    assert set(Reminder.objects.filter(status=ReminderStatus.PENDING)
               .values_list("pk", flat=True)) == before


def test_a_confirmed_appointment_skips_its_later_reminders(practice, front_desk, clinic):
    book(practice, front_desk)
    appointment = Appointment.objects.get()
    assert appointments.confirm(appointment) == 2
    assert statuses(appointment) == {168: (ReminderStatus.SKIPPED_CONFIRMED, "confirmed"),
                                     48: (ReminderStatus.SKIPPED_CONFIRMED, "confirmed")}
    assert Appointment.objects.get().status == AppointmentStatus.CONFIRMED


def test_a_cancelled_appointment_is_reminded_of_no_more(practice, front_desk, clinic):
    book(practice, front_desk)
    appointment = Appointment.objects.get()
    appointments.cancel(appointment)
    assert not Reminder.objects.filter(status=ReminderStatus.PENDING).exists()
    assert set(Reminder.objects.values_list("reason", flat=True)) == {"cancelled"}


@pytest.mark.parametrize(("hours_ahead", "expected"), [
    # Booked 3 days ahead: the week's reminder goes now, the 2-day one at its time.
    (72, {168: "now", 48: "on time"}),
    # 30 hours ahead: both times passed; the nearer one still goes, at once.
    (30, {168: ReminderStatus.SKIPPED_LATE, 48: "now"}),
    # 10 hours ahead: too late for any reminder.
    (10, {168: ReminderStatus.SKIPPED_LATE, 48: ReminderStatus.SKIPPED_LATE}),
])
def test_a_reminder_whose_time_has_passed_is_sent_late_only_24_hours_ahead(
        practice, front_desk, clinic, hours_ahead, expected):
    now = timezone.now()
    book(practice, front_desk, row(in_days=hours_ahead / 24), now=now)
    found = {}
    for r in Reminder.objects.all():
        if r.status != ReminderStatus.PENDING:
            found[r.offset_h] = r.status
        else:
            found[r.offset_h] = "now" if r.send_at == now else "on time"
    assert found == expected


def test_the_practice_sets_its_own_offsets(practice, front_desk, clinic):
    assert reminders.set_offsets(practice, [4, 72], by=front_desk) == [72, 4]
    book(practice, front_desk)
    assert sorted(Reminder.objects.values_list("offset_h", flat=True)) == [4, 72]
    with pytest.raises(ValueError, match="1 to 4 offsets"):
        reminders.set_offsets(practice, [], by=front_desk)


def test_every_bad_line_is_named_by_its_number_and_the_rest_go_in(practice, front_desk, clinic):
    make_patient(practice, "Grace", "Hopper", dt.date(1946, 12, 9), phone="")
    result = book(practice, front_desk,
                  row(2, "A-1"),
                  row(3, "A-2", mrn="RFM-000000"),
                  row(4, "A-3", provider="Dr. Nobody"),
                  row(5, "A-4", in_days=-1),
                  row(6, "A-1", in_days=11),
                  row(7, "A-5", mrn="", given_name="grace", family_name="HOPPER",
                      date_of_birth=dt.date(1946, 12, 9)),
                  row(8, "A-6", mrn="", given_name="Grace", family_name="Hopper"))
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "Unknown patient: no patient of the practice matches."),
        (4, "Unknown provider: add them to the practice first."),
        (5, "The time is in the past."),
        (6, "The id A-1 is on an earlier line too."),
        (8, "Give the patient's MRN, or their name and date of birth."),
    ]
    assert sorted(Appointment.objects.values_list("external_id", flat=True)) == ["A-1", "A-5"]


def test_a_plan_writes_nothing(practice, front_desk, clinic):
    plan = appointments.plan_import(practice, [row()])
    assert [p.action for p in plan.planned] == [appointments.CREATE]
    assert not Appointment.objects.exists() and not Reminder.objects.exists()


def test_another_practices_patients_and_providers_are_unknown(practice, other_practice,
                                                              other_admin, clinic):
    result = book(other_practice, other_admin)
    assert [p.message for p in result.problems] == [
        "Unknown patient: no patient of the practice matches."]
    dr_osei(other_practice)
    assert book(other_practice, other_admin).created == 0
    assert not Appointment.objects.exists()
