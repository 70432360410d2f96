"""Notification email, through a real SMTP server on loopback (aiosmtpd).

Email is notification only: it says there is something to read, never what. A server that
refuses (5xx) fails the delivery for good; one that is busy (4xx) or down is tried again.
"""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from clinicline import claims
from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice
from tests.conftest import make_member
from tests.support_proc import free_port

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example.org"
NOTICE = ("You have 2 new secure messages in Refills\n"
          "Sign in to read them: https://clinic.example.org/p/riverside/")


@pytest.fixture(autouse=True)
def our_site(settings: Any) -> None:
    """The notices link to our own site, the one host the PHI guard lets a link name."""
    settings.SITE_URL = SITE


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, or answers RCPT or DATA with a
    refusal."""

    def __init__(self, refuse_rcpt: str = "", refuse_data: str = "") -> None:
        self.refuse_rcpt, self.refuse_data = refuse_rcpt, refuse_data
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_data:
            return self.refuse_data
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(mailbox: Mailbox, port: int | None = None) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1, and the project's mail settings pointing at it."""
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_to(port):
            yield port
    finally:
        controller.stop()


def mail_to(port: int) -> override_settings:
    return override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                             EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False)


@pytest.fixture
def refills_nurse(practice: Practice) -> User:
    return make_member(practice, Role.NURSE, "refills-nurse", email="nurse@riverside.example")


def notify(practice: Practice, user: User, body: str = NOTICE,
           patient: Patient | None = None) -> Delivery:
    return service.enqueue(practice, channel="email", to=user.email, body=body,
                           purpose="notification", idempotency_key="inbox-refills-1",
                           patient=patient)


def reread(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def test_a_notification_email_arrives_and_carries_no_phi(practice, patient, refills_nurse):
    # The messages are about Walter Okafor (born 04/02/1958, 617-555-0142); the mail is not.
    mailbox = Mailbox()
    with smtp_server(mailbox):
        delivery = notify(practice, refills_nurse, patient=patient)
        assert service.send_due() == 1
    assert len(mailbox.received) == 1
    sender, recipients, raw = mailbox.received[0]
    assert recipients == ["nurse@riverside.example"]
    assert sender == "no-reply@localhost"
    mail = email.message_from_bytes(raw)
    assert mail["Subject"] == "You have 2 new secure messages in Refills"
    assert mail.get_payload().strip() == \
        "Sign in to read them: https://clinic.example.org/p/riverside/"
    assert mail["X-Clinicline-Delivery"] == str(delivery.pk)
    # Random ids and the time could spell "1958" by chance: the rest is checked, as sent.
    for random_header in ("Message-ID", "Date", "X-Clinicline-Delivery"):
        del mail[random_header]
    text = mail.as_string()
    for phi in ("Walter", "Okafor", "1958", "04/02", "555-0142", "5550142", "RFM-100142",
                str(patient.pk)):
        assert phi.casefold() not in text.casefold(), phi
    row = reread(delivery)
    assert (row.status, row.transport, row.attempts) == (Status.SENT, "smtp", 1)


def test_an_email_naming_the_patient_is_withheld_and_never_reaches_the_server(
        practice, patient, refills_nurse):
    mailbox = Mailbox()
    with smtp_server(mailbox):
        delivery = notify(practice, refills_nurse, patient=patient,
                          body="Walter Okafor called about a refill\nPlease sign in.")
        service.send_due()
    assert mailbox.received == []
    assert reread(delivery).error == "withheld: looks like PHI (name)"


@pytest.mark.parametrize("mailbox,error", [
    (Mailbox(refuse_rcpt="550 5.1.1 No such user here"), "SMTP: SMTPRecipientsRefused 550"),
    (Mailbox(refuse_data="554 5.7.1 Message rejected"), "SMTP: SMTPDataError 554"),
], ids=["at RCPT", "at DATA"])
def test_a_server_that_refuses_fails_the_delivery_for_good(practice, refills_nurse, mailbox,
                                                            error):
    with smtp_server(mailbox):
        delivery = notify(practice, refills_nurse)
        service.send_due()
        service.send_due()
    row = reread(delivery)
    assert (row.status, row.attempts, row.due_at, row.error) == (Status.FAILED, 1, None, error)
    assert mailbox.received == []


def test_a_busy_server_is_tried_again_later(practice, refills_nurse):
    with smtp_server(Mailbox(refuse_rcpt="450 4.2.1 Mailbox busy, try later")):
        before = timezone.now()
        delivery = notify(practice, refills_nurse)
        service.send_due()
    row = reread(delivery)
    assert (row.status, row.attempts, row.error) == \
        (Status.QUEUED, 1, "SMTP: SMTPRecipientsRefused 450")
    assert row.due_at >= before + claims.backoff(1)


def test_a_server_that_is_down_is_tried_again_and_the_mail_arrives_once_it_is_up(
        practice, refills_nurse):
    port = free_port()  # nothing listens here yet
    with mail_to(port):
        before = timezone.now()
        delivery = notify(practice, refills_nurse)
        assert service.send_due() == 1
    row = reread(delivery)
    assert (row.status, row.attempts, row.error) == \
        (Status.QUEUED, 1, "SMTP: ConnectionRefusedError")
    assert before + claims.backoff(1) <= row.due_at <= timezone.now() + claims.backoff(1)

    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        assert service.send_due() == 0  # not before its time
        with time_machine.travel(row.due_at + dt.timedelta(seconds=1), tick=False):
            assert service.send_due() == 1
    assert len(mailbox.received) == 1
    row = reread(delivery)
    assert (row.status, row.attempts, row.error) == (Status.SENT, 2, "")
