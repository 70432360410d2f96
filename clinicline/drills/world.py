"""What a drill runs in: the practice it names, drill staff and patients made for it, its
own clock, and the worker's jobs run over the drill's own rows only.

Everything a drill writes is rolled back when its scenario ends (``runner``), so the
people and patients made here exist only inside it. Time is the scenario's: the clock
starts at its ``when`` and runs on with the wall clock; escalation waits are jumped over
(the worker's step functions take ``now``), never slept.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from clinicline import claims
from clinicline.accounts.models import Membership, User
from clinicline.intake import texts
from clinicline.intake.models import InboundText
from clinicline.oncall import pages
from clinicline.oncall.models import Page
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Delivery
from clinicline.outreach import reminders
from clinicline.outreach.appointment_models import Reminder
from clinicline.practices.models import GatewayAccount, Practice

LIVE_GATEWAY = ("practice {slug!r} sends through a live carrier account: a drill sends only "
                "through the loopback gateway (the phone simulator). Switch the practice's "
                "gateway to test mode, or drill another practice (--practice).")
NO_GATEWAY = ("practice {slug!r} has no gateway, and the loopback gateway is off "
              "(CLINICLINE_LOOPBACK_GATEWAY): a drill sends only through the loopback gateway.")
NO_PRACTICE = ("there is no practice {slug!r}: create the demo practice (`clinicline demo`) "
               "or name another with --practice")


class DrillRefused(Exception):
    """The drill will not run (no such practice, a live gateway)."""


class Clock:
    """The scenario's time: its ``when``, plus the wall clock's progress since, plus every
    wait the drill jumped over instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.start, self._t0, self.jumped_s, self.jumps = start, time.monotonic(), 0.0, 0

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self._t0 + self.jumped_s)

    def advance_to(self, moment: dt.datetime) -> None:
        ahead = (moment - self.now()).total_seconds()
        if ahead > 0:
            self.jumped_s += ahead
            self.jumps += 1


def practice_for(slug: str) -> Practice:
    """The practice to drill in, checked to send only through the loopback gateway."""
    practice = Practice.objects.filter(slug=slug).first()
    if practice is None:
        raise DrillRefused(NO_PRACTICE.format(slug=slug))
    account = GatewayAccount.objects.filter(practice=practice).first()
    if account is not None and not account.test_mode:
        raise DrillRefused(LIVE_GATEWAY.format(slug=slug))
    if account is None and not settings.LOOPBACK_GATEWAY:
        raise DrillRefused(NO_GATEWAY.format(slug=slug))
    return practice


@dataclass
class World:
    """One scenario's run: its practice, clock, and the rows that are the drill's own."""

    practice: Practice
    clock: Clock
    started: dt.datetime = field(default_factory=timezone.now)  # the wall clock's
    pages: list[Any] = field(default_factory=list)      # ids of the drill's own rows
    reminders: list[Any] = field(default_factory=list)
    texts: list[Any] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)   # not sent, and why (not reminders)
    notes: list[str] = field(default_factory=list)

    def member(self, role: str) -> User:
        """A drill member of staff in this role (made for the drill, rolled back with it)."""
        user = User.objects.create(username=f"drill-{role}-{uuid.uuid4().hex[:8]}",
                                   first_name="Drill", last_name=role.replace("-", " "))
        Membership.objects.create(user=user, practice=self.practice, role=role)
        return user

    def gateway(self) -> GatewayAccount:
        """The practice's test-mode account (the simulator's carrier signs with it); a drill
        account when it has none and the loopback gateway is on."""
        account = GatewayAccount.objects.filter(practice=self.practice).first()
        return account or GatewayAccount.objects.create(
            practice=self.practice, phone_number=self.practice.callback_number,
            account_sid="AC" + uuid.uuid4().hex, auth_token=secrets.token_hex(16),
            test_mode=True)

    def deliveries(self) -> QuerySet[Delivery]:
        """What the drill asked to send: this practice's deliveries written since it began."""
        return Delivery.objects.filter(practice=self.practice, created_at__gte=self.started)

    def worker_pass(self) -> int:
        """The worker's jobs once, at the drill's now, over the drill's rows only. Email is
        never handed over: its transport is a real server, not the loopback gateway."""
        now, done = self.clock.now(), 0
        for page in self.pages:
            done += pages.run_due(now=now, only=page)
        due = reminders.due_reminders(now).filter(pk__in=self.reminders)
        done += reminders.decide_due(due, len(self.reminders) or 1, now)
        waiting = InboundText.objects.filter(pk__in=self.texts, state=InboundText.State.WAITING,
                                             due_at__lte=now)
        for text in claims.claim_due(waiting, 50, due_at=now + texts.LEASE):
            done += texts.take(text)
        return done + outbox.send_due(now=now, among=self.deliveries().exclude(
            channel=Channel.EMAIL))

    def next_due(self) -> dt.datetime | None:
        """The next moment any of the drill's work falls due."""
        moments = [*Page.objects.filter(pk__in=self.pages, state=Page.State.OPEN)
                   .exclude(next_step_at=None).values_list("next_step_at", flat=True),
                   *self.deliveries().exclude(channel=Channel.EMAIL).filter(
                       status="queued").values_list("due_at", flat=True),
                   *Reminder.objects.filter(pk__in=self.reminders, status="pending")
                   .values_list("send_at", flat=True)]
        return min((m for m in moments if m is not None), default=None)

    def run_until(self, moment: dt.datetime, *, idle_stop: bool = False) -> None:
        """Worker passes, jumping from one due moment to the next, up to ``moment`` (or,
        ``idle_stop``, until nothing more is due before it)."""
        for _ in range(1000):  # a bound: a policy cannot loop a drill for ever
            self.worker_pass()
            upcoming = self.next_due()
            if upcoming is None or upcoming > moment:
                if not idle_stop:
                    self.clock.advance_to(moment)
                    self.worker_pass()
                return
            self.clock.advance_to(upcoming)
