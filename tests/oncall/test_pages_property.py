"""Never silent: over random policies (members who can or cannot be reached, managers,
teams, whoever is on call), random waits, random acknowledgements and random jumps of the
clock, every urgent message's page ends acknowledged or alarmed, never still open, and no
member is notified twice for one step of one round."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import pages
from clinicline.oncall.models import ContactMethod, Page, Policy
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Delivery
from clinicline.practices.models import Team
from tests.conftest import make_member, make_practice

pytestmark = pytest.mark.django_db
SLUGS = itertools.count()

steps = st.lists(st.tuples(
    st.sampled_from(["reachable", "unreachable", "manager", "team", "on-call", "backup"]),
    st.integers(min_value=10, max_value=600)), min_size=1, max_size=4)


def build(shape: list[tuple[str, int]], repeat: int):
    practice = make_practice(f"p{next(SLUGS)}", "Riverside Family Medicine")
    n = next(SLUGS)
    reachable = make_member(practice, Role.PROVIDER, f"reachable{n}")
    ContactMethod.objects.create(user=reachable, kind=ContactMethod.Kind.SMS,
                                 address="+16175550190", verified_at=timezone.now())
    unreachable = make_member(practice, Role.NURSE, f"unreachable{n}")
    policy = Policy.objects.create(practice=practice, name="p", repeat=repeat,
                                   is_default=True)
    clinical = Team.objects.filter(practice=practice, work="clinical").first()
    for position, (target, wait_s) in enumerate(shape):
        kind = {"reachable": Step.Target.MEMBER, "unreachable": Step.Target.MEMBER,
                "manager": Step.Target.MANAGER, "team": Step.Target.TEAM,
                "on-call": Step.Target.ON_CALL, "backup": Step.Target.BACKUP}[target]
        Step.objects.create(policy=policy, position=position, target=kind, wait_s=wait_s,
                            member=reachable if target == "reachable" else
                            unreachable if target == "unreachable" else None,
                            team=clinical if target == "team" else None)
    return practice, reachable


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=steps, repeat=st.integers(min_value=1, max_value=3),
       ack_after=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)),
       jumps=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=60))
def test_every_page_ends_acknowledged_or_alarmed(shape, repeat, ack_after, jumps):
    practice, reachable = build(shape, repeat)
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = take_message(practice, call_types_for(practice).get("clinical"), {
            "patient_name": "Walter Okafor", "callback_number": "+16175550142",
            "concern": "Short of breath since tonight."}, answers={"breathing": True})
    page = Page.objects.get(message=message)
    now, acked = page.opened_at, False
    # Every step waits at most 600 s: 4 steps x 3 rounds ends well inside 100 passes.
    for jump in itertools.islice(itertools.chain(jumps, itertools.repeat(300)), 100):
        now += dt.timedelta(seconds=jump)
        if ack_after is not None and not acked and now >= page.opened_at + dt.timedelta(
                seconds=ack_after):
            acked = pages.acknowledge(page, reachable, via="link", now=now).first
        pages.run_due(now=now)
        if not Page.objects.filter(pk=page.pk, state=Page.State.OPEN).exists():
            break
    page.refresh_from_db()
    assert page.state in (Page.State.ACKNOWLEDGED, Page.State.ALARMED), page.state
    assert page.next_step_at is None
    # Acknowledged exactly when someone acknowledged it before the alarm.
    assert (page.state == Page.State.ACKNOWLEDGED) == acked
    keys = Counter(d.idempotency_key for d in Delivery.objects.filter(
        practice=practice, purpose="page"))
    assert all(count == 1 for count in keys.values())
