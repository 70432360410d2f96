"""`clinicline oncall who`: the names of who is on call, and the demo's schedule."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicline.accounts.roles import Role
from clinicline.demo.seed import create_demo
from clinicline.oncall.models import Schedule
from clinicline.oncall.schedules import gaps, on_call
from tests.conftest import make_member
from tests.oncall.support import local, make_schedule

pytestmark = pytest.mark.django_db


def who(*args: str) -> str:
    out = StringIO()
    call_command("oncall", "who", *args, stdout=out)
    return out.getvalue()


def test_who_names_the_primary_then_the_backup(practice, nurse):
    osei = make_member(practice, Role.PROVIDER, "osei")
    osei.first_name, osei.last_name = "Amara", "Osei"
    osei.save()
    make_schedule(practice, [osei], [nurse])
    assert who("--practice", "riverside", "--at", "2026-12-01T22:00") == (
        "After hours: Amara Osei, nurse\n")
    assert who("--practice", "riverside", "--at", "2026-11-30T07:00-05:00") == (
        "After hours: nobody\n")


def test_who_refuses_an_unknown_practice_and_a_bad_time(practice):
    with pytest.raises(CommandError, match="no practice 'nowhere'"):
        who("--practice", "nowhere")
    with pytest.raises(CommandError, match="not an ISO time"):
        who("--practice", "riverside", "--at", "tonight")
    assert who("--practice", "riverside") == "The practice has no on-call schedule.\n"


def test_the_demo_practice_has_a_weekly_primary_and_a_backup_always_on():
    practice = create_demo()
    create_demo()  # idempotent: still one schedule, two rotations
    schedule = Schedule.objects.get(practice=practice)
    assert schedule.layers.count() == 2
    start = local(2026, 12, 1)
    assert gaps(schedule, start, start + dt.timedelta(days=60)) == []
    names = [u.username for u in on_call(schedule, local(2026, 12, 1, 12))]
    assert len(names) == 2 and names[0] in {"osei", "ferreira", "kim"} and names[1] == "nurse"
