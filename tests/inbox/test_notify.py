"""Notices about new messages: one per member per queue per window, through the outbox,
saying a count and a queue name and nothing about any patient; a retried window never
notifies twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.inbox import notify
from clinicline.inbox.models import Message, Notice, QueueNotice
from clinicline.intake.service import call_types_for, take_message
from clinicline.jobs import job
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Delivery
from clinicline.practices.models import Practice
from tests.conftest import make_member

pytestmark = pytest.mark.django_db

PATIENT = {"patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
           "callback_number": "+16175550142"}
# What the notices must never carry: the patient's name, birth date, number, and the words
# of the concern.
PHI = ("Walter", "Okafor", "1958", "04-02", "4/2", "5550142", "617", "lisinopril", "CVS",
       "chest", "rash", "pregnan", "charged")


def refill(practice: Practice) -> Message:
    return take_message(practice, call_types_for(practice).get("refill"), {
        **PATIENT, "medication": "lisinopril 10 mg", "pharmacy": "CVS on Main",
        "days_left": 2})


def later(seconds: float = 1) -> dt.datetime:
    """A moment by which messages made now have settled."""
    return timezone.now() + notify.SETTLE + dt.timedelta(seconds=seconds)


def bodies(user) -> list[str]:  # noqa: ANN001
    outbox.send_due()
    return [n.body for n in Notice.objects.filter(user=user).order_by("created_at")]


def test_three_refills_make_one_notice_for_each_nurse(practice, nurse):
    provider = make_member(practice, Role.PROVIDER, "dr-osei")
    for _ in range(3):
        refill(practice)
    assert notify.announce_all(later()) == 2
    assert bodies(nurse) == ["3 new messages in Refills"]
    assert bodies(provider) == ["3 new messages in Refills"]


def test_the_next_run_announces_only_what_is_new(practice, nurse):
    refill(practice)
    notify.announce_all(later())
    assert notify.announce_all(later(2)) == 0
    second = refill(practice)
    # Taken after the first window closed (the runs above look a second ahead).
    Message.objects.filter(pk=second.pk).update(created_at=timezone.now() + dt.timedelta(
        seconds=5))
    notify.announce_all(later(30))
    assert bodies(nurse) == ["1 new message in Refills", "1 new message in Refills"]


def test_a_message_still_settling_waits_for_the_next_run(practice, nurse):
    refill(practice)
    assert notify.announce_all(timezone.now()) == 0
    assert notify.announce_all(later()) == 1


def test_a_retried_window_never_notifies_twice(practice, nurse):
    refill(practice)
    now = later()
    notify.announce_all(now)
    assert Delivery.objects.count() == 1
    # A worker that ran this window, then (say) lost its commit acknowledgement and runs
    # the very same window again: the idempotency keys find the deliveries already made.
    cursor = QueueNotice.objects.get(team__slug="refills")
    assert cursor.notified_until == now - notify.SETTLE
    QueueNotice.objects.filter(pk=cursor.pk).update(notified_until=now - notify.FIRST_LOOKBACK)
    notify.announce(cursor.team, now)
    assert Delivery.objects.count() == 1
    assert bodies(nurse) == ["1 new message in Refills"]


def test_notices_carry_no_phi(practice, nurse, biller):
    manager = make_member(practice, Role.PRACTICE_MANAGER, "manager", email="pm@riverside.example")
    refill(practice)
    take_message(practice, call_types_for(practice).get("clinical"),
                 {**PATIENT, "concern": "a rash and chest tightness"})
    take_message(practice, call_types_for(practice).get("billing"),
                 {**PATIENT, "question": "I was charged twice"})
    take_message(practice, call_types_for(practice).get("complaint"),
                 {**PATIENT, "complaint": "I was charged twice and nobody called back"})
    assert notify.announce_all(later()) > 0
    outbox.send_due()
    sent = list(Delivery.objects.all())
    assert {d.channel for d in sent} == {Channel.IN_APP, Channel.EMAIL}
    for delivery in sent:
        for secret in PHI:
            assert secret not in delivery.body, (secret, delivery.body)
        assert delivery.status == "delivered" or delivery.channel == Channel.EMAIL
    assert sorted(bodies(manager)) == ["1 new message in Billing",
                                       "1 new message in Practice manager"]


def test_clinical_staff_hear_about_clinical_queues_only(practice, nurse):
    scheduler = make_member(practice, Role.SCHEDULER, "scheduler")
    take_message(practice, call_types_for(practice).get("scheduling"), PATIENT)
    notify.announce_all(later())
    assert bodies(scheduler) == ["1 new message in Scheduling"]
    assert bodies(nurse) == []


def test_members_are_not_counted_messages_they_may_not_see(practice, biller):
    manager = make_member(practice, Role.PRACTICE_MANAGER, "manager")
    billing = take_message(practice, call_types_for(practice).get("billing"),
                           {**PATIENT, "question": "a charge"}).team
    # An emergency the practice's own rule left in the billing queue is for clinicians.
    emergency = take_message(practice, call_types_for(practice).get("billing"),
                             {**PATIENT, "question": "a charge, and crushing chest pain"})
    Message.objects.filter(pk=emergency.pk).update(team=billing)
    notify.announce_all(later())
    assert bodies(biller) == ["1 new message in Billing"]
    assert bodies(manager) == ["1 new message in Billing"]


def test_another_practice_hears_nothing(practice, other_practice, nurse):
    away_nurse = make_member(other_practice, Role.NURSE, "lakeside-nurse")
    refill(practice)
    notify.announce_all(later())
    assert bodies(away_nurse) == []
    assert bodies(nurse) == ["1 new message in Refills"]


def test_the_worker_runs_the_notifier():
    assert job("inbox-notify").run is notify.announce_all
