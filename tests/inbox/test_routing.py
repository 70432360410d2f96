"""Routing rules as data: the defaults send every call drill to its expected team, a
practice's own rules win in order, and the rules page is open to every member."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.urls import reverse

from clinicline.inbox.models import RoutingRule
from clinicline.inbox.routing import route
from clinicline.practices.hours import is_open
from clinicline.practices.models import Practice, Team
from tests.conftest import signed_in
from tests.shared import SCENARIOS

pytestmark = pytest.mark.django_db

TEAMS = ["clinical", "refills", "scheduling", "billing", "practice-manager"]


def call_drills() -> list[dict]:
    drills = [yaml.safe_load(path.read_text()) for path in sorted(SCENARIOS.glob("*.yaml"))]
    return [d for d in drills if d.get("call_type") and "routed_to" in d.get("expect", {})]


DRILLS = call_drills() if SCENARIOS.is_dir() else []
# Whether each drill's moment falls in the default office hours, as its story says.
DRILL_OPEN = {"urgent-clinical": False, "refill-request": False,
              "new-patient-booking": False, "billing-dispute": True, "angry-patient": True}


@pytest.fixture
def teams(practice: Practice) -> dict[str, Team]:
    return {slug: Team.objects.create(practice=practice, slug=slug, name=slug.title())
            for slug in TEAMS}


def test_the_drills_are_here():
    # The drills live in ../shared beside the checkout (as in CI); without them the routing
    # drills below would silently test nothing.
    assert SCENARIOS.is_dir(), f"{SCENARIOS} is missing"
    assert {d["name"] for d in DRILLS} >= set(DRILL_OPEN)


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d["name"])
def test_each_call_drill_routes_to_its_expected_team(practice, teams, drill):
    at = dt.datetime.fromisoformat(drill["when"]).replace(tzinfo=practice.tz)
    open_now = is_open(practice, at)
    if drill["name"] in DRILL_OPEN:
        assert open_now is DRILL_OPEN[drill["name"]]
    team = route(practice, drill["call_type"], drill["expect"]["priority"], open_now)
    assert team.slug == drill["expect"]["routed_to"]


@pytest.mark.parametrize(("call_type", "priority", "expected"), [
    ("clinical", "routine", "clinical"),
    ("refill", "routine", "refills"),
    ("scheduling", "routine", "scheduling"),
    ("new-patient", "routine", "scheduling"),
    ("billing", "routine", "billing"),
    ("complaint", "routine", "practice-manager"),
    ("records", "routine", "practice-manager"),
    ("other", "routine", "practice-manager"),
    ("something-new", "routine", "practice-manager"),
    ("billing", "urgent", "clinical"),
    ("refill", "emergency", "clinical"),
    ("complaint", "emergency", "clinical"),
])
@pytest.mark.parametrize("open_now", [True, False])
def test_default_rules(practice, teams, call_type, priority, expected, open_now):
    assert route(practice, call_type, priority, open_now).slug == expected


def test_practice_rules_win_first_match_by_order(practice, teams):
    RoutingRule.objects.create(practice=practice, call_type="refill", when="closed",
                               team=teams["clinical"], order=20)
    RoutingRule.objects.create(practice=practice, call_type="*", priority="emergency",
                               team=teams["clinical"], order=10)
    RoutingRule.objects.create(practice=practice, call_type="*", team=teams["practice-manager"],
                               order=30)
    assert route(practice, "refill", "routine", False) == teams["clinical"]
    assert route(practice, "refill", "routine", True) == teams["practice-manager"]
    assert route(practice, "billing", "emergency", True) == teams["clinical"]


def test_unmatched_practice_rules_fall_back_to_the_defaults(practice, teams):
    RoutingRule.objects.create(practice=practice, call_type="refill", when="open",
                               team=teams["scheduling"], order=1)
    assert route(practice, "refill", "routine", True) == teams["scheduling"]
    assert route(practice, "refill", "routine", False) == teams["refills"]


def test_rules_and_teams_are_per_practice(practice, other_practice, teams):
    theirs = Team.objects.create(practice=other_practice, slug="billing", name="Their billing")
    RoutingRule.objects.create(practice=other_practice, call_type="*", team=theirs, order=1)
    assert route(practice, "clinical", "routine", True) == teams["clinical"]
    assert route(other_practice, "clinical", "routine", True) == theirs


def test_a_missing_default_team_is_made_rather_than_lose_the_message(practice):
    assert not Team.objects.filter(practice=practice).exists()
    team = route(practice, "refill", "routine", True)
    assert (team.practice, team.slug, team.name) == (practice, "refills", "Refills")
    assert route(practice, "refill", "urgent", True).slug == "clinical"
    assert route(practice, "refill", "routine", False) == team


def page(practice: Practice) -> str:
    return reverse("inbox:routing", kwargs={"practice": practice.slug})


def test_any_member_reads_the_rules_in_force(practice, teams, agent, biller):
    for user in (agent, biller):
        reply = signed_in(user).get(page(practice))
        assert reply.status_code == 200
        assert "default rules" in reply.content.decode()
    RoutingRule.objects.create(practice=practice, call_type="refill",
                               team=teams["scheduling"], order=1)
    text = signed_in(agent).get(page(practice)).content.decode()
    assert "Scheduling" in text and "default rules" not in text


def test_another_practice_gets_404(practice, other_admin):
    assert signed_in(other_admin).get(page(practice)).status_code == 404
