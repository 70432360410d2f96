"""The daily coverage mail: a practice's admins hear, once a local day, when nobody will be
the primary on call in the next 14 days and who is on call without a verified phone;
nothing on a day with nothing to report, and never another practice's schedules."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default as email_policy

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.jobs import job
from clinicline.oncall import coverage
from clinicline.oncall.models import ContactMethod, Override, Schedule
from clinicline.outbox.models import Delivery, Status
from clinicline.outbox.service import screened, send_due
from clinicline.practices.models import Practice
from tests.conftest import make_member, make_practice, signed_in
from tests.gateways.test_smtp import Mailbox, smtp_server
from tests.oncall.support import local, make_schedule
from tests.outbox.support import on_threads

pytestmark = pytest.mark.django_db
SITE = "https://clinic.example.org"
MONDAY_9AM = local(2026, 12, 7, 9, 0)  # the weekly rotation below: osei, then baptiste


def verified(user: User, number: str = "+16175550190") -> User:
    ContactMethod.objects.create(user=user, kind="sms", address=number,
                                 verified_at=timezone.now())
    return user


def admin(practice: Practice, username: str, email: str = "") -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, username,
                       email=email or f"{username}@{practice.slug}.example")


@pytest.fixture
def osei(practice) -> User:
    user = verified(make_member(practice, Role.PROVIDER, "osei"))
    User.objects.filter(pk=user.pk).update(first_name="Abena", last_name="Osei")
    user.refresh_from_db()
    return user


@pytest.fixture
def covered(practice, osei) -> Schedule:
    """Riverside's after-hours schedule: osei is the primary every week, without a gap."""
    return make_schedule(practice, [osei])


@pytest.fixture
def gap_tomorrow(covered, osei) -> Override:
    """Nobody the primary from Tuesday 18:00 to Wednesday 08:00."""
    return Override.objects.create(schedule=covered, kind=Override.Kind.REMOVE, member=osei,
                                   starts_at=local(2026, 12, 8, 18), ends_at=local(2026, 12, 9, 8))


def mails(practice: Practice | None = None) -> list[Delivery]:
    """The coverage mails, by address (sorted here: ``to`` is sealed, and ciphertext has no
    order)."""
    found = Delivery.objects.filter(purpose=coverage.PURPOSE)
    return sorted(found.filter(practice=practice) if practice else found, key=lambda d: d.to)


@override_settings(SITE_URL=SITE)
def test_a_gap_tomorrow_mails_each_admin_once_a_day(practice, gap_tomorrow):
    admin(practice, "lee")
    admin(practice, "ruiz")
    make_member(practice, Role.PRACTICE_ADMIN, "no-address")  # no email: nothing to send to
    gone = admin(practice, "gone")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make_member(practice, Role.PRACTICE_MANAGER, "manager", email="pm@riverside.example")

    assert coverage.mail_all(local(2026, 12, 7, 6, 59)) == 0  # before the day's mail is due
    for hour in (9, 10, 15, 23):  # the hourly job, all day
        coverage.mail_all(local(2026, 12, 7, hour, 30))
    sent = mails()
    assert [d.to for d in sent] == ["lee@riverside.example", "ruiz@riverside.example"]
    assert {d.idempotency_key for d in sent} == {
        f"coverage:{practice.pk}:2026-12-07:{u.pk}"
        for u in User.objects.filter(username__in=["lee", "ruiz"])}
    subject, _, body = sent[0].body.partition("\n")
    assert subject == "[clinicline] On-call coverage at Riverside Family Medicine"
    assert "- Tue 08 Dec 18:00 to Wed 09 Dec 08:00\n" in body
    assert "(schedules: After hours)" in body and "Times are America/New_York." in body
    assert f"{SITE}/p/riverside/oncall/schedules/" in body
    assert "without a verified phone" not in body  # osei has one

    coverage.mail_all(local(2026, 12, 8, 7, 5))  # the next local day: the next mail
    assert len(mails()) == 4
    assert coverage.mail_all(local(2026, 12, 8, 8, 5)) == 0


def test_nothing_to_report_sends_nothing(practice, covered):
    admin(practice, "lee")
    assert coverage.mail_all(MONDAY_9AM) == 0
    assert mails() == []
    assert not coverage.coverage(practice, MONDAY_9AM)


def test_an_on_call_member_without_a_verified_number_is_named(practice, osei):
    admin(practice, "lee")
    baptiste = make_member(practice, Role.PROVIDER, "baptiste")
    User.objects.filter(pk=baptiste.pk).update(first_name="Marie", last_name="Baptiste")
    # Unverified numbers do not count: a page can only use a verified one.
    ContactMethod.objects.create(user=baptiste, kind="sms", address="+16175550191")
    make_schedule(practice, [osei, baptiste])  # baptiste's week starts Monday 14 Dec
    make_member(practice, Role.NURSE, "off-rota")  # not on call: not named

    coverage.mail_all(MONDAY_9AM)
    (mail,) = mails()
    assert ("On call without a verified phone number (a page can neither text nor call "
            "them until they add one under How to reach me):\n- Marie Baptiste\n") in mail.body
    assert "Osei" not in mail.body and "off-rota" not in mail.body
    assert "Nobody is the primary" not in mail.body


def test_a_practice_without_a_schedule_hears_it_has_no_primary_at_all(practice):
    admin(practice, "lee")
    coverage.mail_all(MONDAY_9AM)
    (mail,) = mails()
    assert "(schedules: none yet):\n- now to Mon 21 Dec 09:00 and later\n" in mail.body


def test_other_practices_never_mix(practice, other_practice, gap_tomorrow):
    admin(practice, "lee")
    admin(other_practice, "kim")
    lakeside_provider = make_member(other_practice, Role.PROVIDER, "lakeside-dr")
    make_schedule(other_practice, [lakeside_provider], name="Lakeside nights")

    coverage.mail_all(MONDAY_9AM)
    (riverside,) = mails(practice)
    (lakeside,) = mails(other_practice)
    assert riverside.to == "lee@riverside.example" and lakeside.to == "kim@lakeside.example"
    assert "Lakeside" not in riverside.body and "lakeside-dr" not in riverside.body
    assert "Riverside" not in lakeside.body and "After hours" not in lakeside.body
    assert "- lakeside-dr\n" in lakeside.body  # on call there, no verified number
    assert "Tue 08 Dec" not in lakeside.body  # Riverside's gap is Riverside's


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_queue_one_mail_per_admin():
    practice = make_practice()
    admin(practice, "lee")
    admin(practice, "ruiz")
    if connection.vendor == "postgresql":
        queued = on_threads(2, lambda n: coverage.mail_all(MONDAY_9AM))
        assert sum(queued) >= 2  # both may have asked: the keys made it one each
    else:  # one office, one worker: two runs one after the other
        assert [coverage.mail_all(MONDAY_9AM) for _ in range(2)] == [2, 0]
    assert len(mails()) == 2


@override_settings(SITE_URL=SITE)
def test_the_mail_passes_the_outbox_screen_and_reaches_each_admin(practice, gap_tomorrow):
    admin(practice, "lee")
    baptiste = make_member(practice, Role.PROVIDER, "baptiste")
    # From Thursday: after the gap, which it does not close, and inside the 14 days.
    make_schedule(practice, [baptiste], name="Weekend OB", starts_on=dt.date(2026, 12, 10))
    mailbox = Mailbox()
    with smtp_server(mailbox), time_machine.travel(MONDAY_9AM, tick=True):
        assert job("coverage-mail").run() == 1  # the worker's job, as it runs it
        assert send_due() == 1
    (mail,) = mails()
    assert screened(practice, mail.body) == []
    assert mail.status in (Status.SENT, Status.DELIVERED), mail.error
    ((_, recipients, raw),) = mailbox.received
    received = email.message_from_bytes(raw, policy=email_policy)
    assert recipients == ["lee@riverside.example"]
    assert received["Subject"] == "[clinicline] On-call coverage at Riverside Family Medicine"
    text = received.get_content()
    assert "Tue 08 Dec 18:00" in text and "- baptiste" in text
    assert "(schedules: After hours, Weekend OB)" in text


def test_the_job_is_hourly_in_the_slow_lane():
    found = job("coverage-mail")
    assert (found.every_s, found.lane) == (3600, "slow")


def test_the_home_page_shows_its_admins_what_the_mail_says(practice, gap_tomorrow):
    lee = admin(practice, "lee")
    nurse = make_member(practice, Role.NURSE, "nurse")
    home = reverse("practices:home", kwargs={"practice": practice.slug})
    with time_machine.travel(MONDAY_9AM, tick=True):
        page = signed_in(lee).get(home).content.decode()
        assert "Nobody is the primary on call" in page
        assert "<li>Tue 08 Dec 18:00 to Wed 09 Dec 08:00</li>" in page
        assert "On-call coverage" not in signed_in(nurse).get(home).content.decode()
        Override.objects.all().delete()  # the gap is filled
        assert "On-call coverage" not in signed_in(lee).get(home).content.decode()
