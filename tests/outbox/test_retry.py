"""Retries: a transient failure is tried again later and later, a permanent one fails at
once, and nothing is tried forever. Texts go out through the real Twilio transport; only
Twilio's HTTP edge answers from here."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import time_machine
from django.utils import timezone

from clinicline import claims
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import Practice
from clinicline.simulator.models import SimulatorEvent
from tests.outbox.conftest import ACCOUNT_SID, go_live, twilio_answers, twilio_reply

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
BODY = "Riverside Family Medicine: please call us at (617) 555-0100."
SID = "SM" + "a" * 32


def text(practice: Practice, channel: str = "sms", max_attempts: int = 5) -> Delivery:
    return service.enqueue(practice, channel=channel, to="+16175550142", body=BODY,
                           purpose="reminder", idempotency_key="reminder-1",
                           max_attempts=max_attempts)


def reread(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour():
    assert [claims.backoff(n).total_seconds() for n in range(1, 10)] == \
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_text_goes_out_through_the_practices_twilio_account(practice, live):
    delivery = text(practice)
    with twilio_answers(twilio_reply(201, sid=SID)) as twilio:
        assert service.send_due() == 1
    delivery = reread(delivery)
    assert (delivery.status, delivery.transport, delivery.vendor_id) == \
        (Status.SENT, "twilio", SID)
    (_, method, url), request = twilio.call_args.args, twilio.call_args.kwargs
    assert method == "POST" and url.endswith(f"/Accounts/{ACCOUNT_SID}/Messages.json")
    assert request["data"]["To"] == "+16175550142"
    assert request["data"]["From"] == live.phone_number
    assert request["data"]["Body"] == BODY
    assert request["auth"] == (ACCOUNT_SID, "live-token")
    assert not SimulatorEvent.objects.exists()  # live: nothing goes to the simulator


def test_a_voice_delivery_is_a_call_that_speaks_the_text(practice, live):
    delivery = text(practice, channel="voice")
    with twilio_answers(twilio_reply(201, sid="CA" + "b" * 32)) as twilio:
        service.send_due()
    assert reread(delivery).status == Status.SENT
    assert twilio.call_args.args[2].endswith("/Calls.json")
    assert f"<Say>{BODY}</Say>" in twilio.call_args.kwargs["data"]["Twiml"]


def test_a_transient_error_is_retried_with_growing_waits_then_fails(practice, live):
    with time_machine.travel(T0, tick=False) as clock:
        delivery = text(practice, max_attempts=4)
        with twilio_answers(twilio_reply(500)) as twilio:
            due = T0
            for attempt in range(1, 4):
                clock.move_to(due - dt.timedelta(seconds=1))
                assert service.send_due() == 0, "tried before its time"
                clock.move_to(due)
                assert service.send_due() == 1
                row = reread(delivery)
                due += claims.backoff(attempt)
                assert (row.status, row.attempts, row.due_at) == (Status.QUEUED, attempt, due)
                assert row.error == "Twilio 500 error 20500"
            clock.move_to(due)
            assert service.send_due() == 1  # the last attempt
            assert service.send_due() == 0
        assert twilio.call_count == 4
    row = reread(delivery)
    assert (row.status, row.attempts, row.due_at) == (Status.FAILED, 4, None)
    assert row.error == "Twilio 500 error 20500"


@pytest.mark.parametrize("edge", [
    twilio_reply(429, code=20429),
    requests.exceptions.ConnectionError("connection refused"),
    requests.exceptions.ReadTimeout("read timed out"),
], ids=["rate-limited", "unreachable", "timed out"])
def test_a_busy_or_unreachable_vendor_is_tried_again_later(practice, live, edge):
    with time_machine.travel(T0, tick=False):
        delivery = text(practice)
        with twilio_answers(edge):
            service.send_due()
    row = reread(delivery)
    assert (row.status, row.attempts, row.due_at) == \
        (Status.QUEUED, 1, T0 + dt.timedelta(seconds=30))


def test_a_permanent_error_fails_at_once(practice, live):
    delivery = text(practice)
    with twilio_answers(twilio_reply(400, code=21211)) as twilio:  # not a valid 'To' number
        service.send_due()
        service.send_due()
    row = reread(delivery)
    assert (row.status, row.attempts, row.due_at) == (Status.FAILED, 1, None)
    assert row.error == "Twilio 400 error 21211"
    assert twilio.call_count == 1


@pytest.mark.parametrize("expires_days_ago", [1, 400])
def test_an_expired_baa_stops_sending(practice, expires_days_ago):
    today = dt.datetime.now(practice.tz).date()  # the practice's day, as current_baa reads it
    go_live(practice, baa_expires=today - dt.timedelta(days=expires_days_ago))
    delivery = text(practice)
    with twilio_answers(twilio_reply(201, sid=SID)) as twilio:
        service.send_due()
    row = reread(delivery)
    assert (row.status, row.error) == (Status.FAILED, "no current BAA with Twilio on record")
    assert twilio.call_count == 0  # nothing reached the vendor


def test_a_delivery_left_sending_by_a_dead_worker_is_queued_again(practice):
    with time_machine.travel(T0, tick=False) as clock:
        delivery = text(practice)
        (claimed,) = service.claim_due()  # ... and the worker dies here
        clock.shift(service.STUCK_AFTER - dt.timedelta(seconds=1))
        assert service.requeue_stuck() == 0  # perhaps still working
        clock.shift(dt.timedelta(seconds=2))
        assert service.requeue_stuck() == 1
        row = reread(delivery)
        assert (row.status, row.attempts, row.due_at) == (Status.QUEUED, 1, timezone.now())
        assert service.send_due() == 1
    row = reread(delivery)
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert SimulatorEvent.objects.filter(delivery=delivery).count() == 1


def test_a_presumed_dead_worker_that_wakes_cannot_overwrite_the_newer_attempt(practice):
    with time_machine.travel(T0, tick=False) as clock:
        text(practice)
        (first,) = service.claim_due()
        clock.shift(service.STUCK_AFTER + dt.timedelta(seconds=1))
        service.requeue_stuck()
        (second,) = service.claim_due()
        service.send(second)
        vendor_id = reread(second).vendor_id
        service.send(first)  # the first worker finishes, late: the vendor took it twice
    row = reread(first)
    assert (row.status, row.attempts, row.vendor_id) == (Status.SENT, 2, vendor_id)


def test_a_delivery_that_kills_every_worker_is_given_up(practice):
    with time_machine.travel(T0, tick=False) as clock:
        delivery = text(practice, max_attempts=2)
        for _ in range(2):
            assert len(service.claim_due()) == 1  # ... and each worker dies
            clock.shift(service.STUCK_AFTER + dt.timedelta(seconds=1))
            service.requeue_stuck()
    row = reread(delivery)
    assert (row.status, row.attempts) == (Status.FAILED, 2)
    assert row.error.startswith("gave up")
    assert not SimulatorEvent.objects.exists()


def test_a_surprise_from_the_vendor_library_is_retried_and_stalls_nothing(practice, live):
    first = text(practice)
    second = service.enqueue(practice, channel="sms", to="+16175550143", body=BODY,
                             purpose="reminder", idempotency_key="reminder-2")
    with twilio_answers(RuntimeError("something no one expected"),
                        twilio_reply(201, sid=SID)):
        assert service.send_due() == 2
    assert (reread(first).status, reread(first).error) == \
        (Status.QUEUED, "unexpected RuntimeError")
    assert reread(second).status == Status.SENT  # the batch went on
