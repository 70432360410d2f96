"""Who sees which queue and which message: minimum necessary. Billing never sees clinical
content, complaints are the manager's, agents and the compliance officer work no queue, and
no routing (the practice's own rules included) strands a message where nobody may open it."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Role
from clinicline.inbox import visibility
from clinicline.inbox.models import Message, RoutingRule
from clinicline.inbox.routing import default_team
from clinicline.intake.service import call_types_for, take_message
from clinicline.practices.models import Practice, Team, Work
from tests.conftest import make_member

pytestmark = pytest.mark.django_db

TEAMS = ["clinical", "refills", "scheduling", "billing", "practice-manager"]
# What each role works, with the default teams.
EXPECTED_QUEUES = {
    Role.NURSE: {"clinical", "refills", "scheduling"},
    Role.PROVIDER: {"clinical", "refills", "scheduling"},
    Role.SCHEDULER: {"scheduling"},
    Role.FRONT_DESK: {"scheduling"},
    Role.BILLING: {"billing"},
    Role.PRACTICE_MANAGER: {"scheduling", "billing", "practice-manager"},
    Role.AGENT: set(),
    Role.PRACTICE_ADMIN: set(),
    Role.COMPLIANCE_OFFICER: set(),
}


def message(practice: Practice, call_type: str, **fields: object) -> Message:
    return take_message(practice, call_types_for(practice).get(call_type), {
        "patient_name": "Walter Okafor", "callback_number": "+16175550142", **fields})


def member(practice: Practice, role: Role) -> Membership:
    return Membership.objects.get(user=make_member(practice, role), practice=practice)


@pytest.fixture
def teams(practice: Practice) -> dict[str, Team]:
    return {slug: default_team(practice, slug) for slug in TEAMS}


@pytest.fixture
def members(practice: Practice) -> dict[Role, Membership]:
    return {role: member(practice, role) for role in Role}


def test_every_role_is_covered():
    assert set(EXPECTED_QUEUES) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_works_the_queues_its_work_needs(practice, teams, role):
    queues = visibility.queues_for(member(practice, role))
    assert {t.slug for t in queues} == EXPECTED_QUEUES[role]


def test_who_works_a_queue_is_its_work_not_its_name(practice, members):
    """Configuration is data: a practice's team called "clinical" that holds billing work
    is a billing queue."""
    Team.objects.create(practice=practice, slug="clinical", name="Front office billing",
                        work=Work.BILLING)
    seen_by = {r for r, m in members.items()
               if "clinical" in {t.slug for t in visibility.queues_for(m)}}
    assert seen_by == {Role.BILLING, Role.PRACTICE_MANAGER}


def test_a_team_the_practice_added_is_clinical_work_overseen_by_the_manager(practice, members):
    Team.objects.create(practice=practice, slug="wound-care", name="Wound care")
    seen_by = {r for r, m in members.items()
               if "wound-care" in {t.slug for t in visibility.queues_for(m)}}
    assert seen_by == {Role.NURSE, Role.PROVIDER, Role.PRACTICE_MANAGER}


def test_billing_never_sees_a_clinical_message(practice, teams, members):
    clinical = message(practice, "clinical", concern="a rash on the arm since Monday")
    bill = message(practice, "billing", question="Why was I charged twice?")
    biller = members[Role.BILLING]
    assert not visibility.can_open(biller, clinical)
    assert visibility.can_open(biller, bill)
    assert list(visibility.visible(biller)) == [bill]
    assert visibility.can_open(members[Role.NURSE], clinical)


def test_a_complaint_goes_to_the_manager_and_only_the_manager_opens_it(practice, teams,
                                                                       members):
    complaint = message(practice, "complaint", complaint="The front desk was rude to me")
    assert complaint.team.slug == "practice-manager"
    openers = {r for r, m in members.items() if visibility.can_open(m, complaint)}
    assert openers == {Role.PRACTICE_MANAGER}
    listers = {r for r, m in members.items() if complaint in visibility.visible(m)}
    assert listers == {Role.PRACTICE_MANAGER}


def test_a_priority_above_routine_makes_any_call_clinical(practice, teams, members):
    # Routed to the billing queue by the practice's own rule, but it is an emergency.
    RoutingRule.objects.create(practice=practice, call_type="billing", team=teams["billing"])
    emergency = message(practice, "billing", question="my bill, and crushing chest pain now")
    # Clinical content is never left in a non-clinical queue, whatever the rules say.
    assert (emergency.priority, emergency.team.slug) == ("emergency", "clinical")
    assert not visibility.can_open(members[Role.BILLING], emergency)
    assert not visibility.can_open(members[Role.PRACTICE_MANAGER], emergency)
    assert emergency not in visibility.visible(members[Role.BILLING])
    nurse = members[Role.NURSE]
    assert visibility.can_open(nurse, emergency)
    assert list(visibility.in_queue(nurse, teams["clinical"])) == [emergency]
    # And if one were there (moved by hand before this rule existed), it is not stranded:
    # clinical staff see clinical messages in every queue, others never.
    Message.objects.filter(pk=emergency.pk).update(team=teams["billing"])
    emergency.refresh_from_db()
    assert emergency not in visibility.in_queue(members[Role.BILLING], teams["billing"])
    assert list(visibility.in_queue(nurse, teams["billing"])) == [emergency]


def test_red_flags_in_a_routine_text_make_it_clinical(practice, teams, members):
    flagged = message(practice, "billing",
                      question="I am pregnant and was charged twice for the ultrasound")
    assert flagged.triage["red_flags"] and flagged.clinical
    assert (flagged.priority, flagged.team.slug) == ("routine", "clinical")
    biller = members[Role.BILLING]
    assert not visibility.can_open(biller, flagged)
    assert flagged not in visibility.visible(biller)
    assert visibility.can_open(members[Role.NURSE], flagged)
    assert flagged in visibility.in_queue(members[Role.NURSE], teams["clinical"])


@pytest.mark.parametrize("role", [Role.AGENT, Role.PRACTICE_ADMIN, Role.COMPLIANCE_OFFICER])
def test_roles_without_a_queue_open_no_message(practice, teams, members, role):
    made = [message(practice, slug, **extra) for slug, extra in [
        ("clinical", {"concern": "a rash"}), ("scheduling", {}),
        ("billing", {"question": "a charge"}), ("complaint", {"complaint": "rude"})]]
    assert not any(visibility.can_open(members[role], m) for m in made)
    assert not visibility.visible(members[role]).exists()


def test_no_member_of_another_practice_opens_a_message(practice, other_practice, teams):
    made = message(practice, "scheduling")
    away = member(other_practice, Role.PRACTICE_MANAGER)
    assert not visibility.can_open(away, made)
    assert not visibility.visible(away).exists()


def test_a_clinical_message_cannot_move_to_a_queue_where_nobody_may_open_it(practice, teams):
    clinical = message(practice, "clinical", concern="a rash")
    bill = message(practice, "billing", question="a charge")
    takes_clinical = {s for s, t in teams.items() if visibility.can_receive(t, clinical)}
    assert takes_clinical == {"clinical", "refills", "scheduling"}
    assert {s for s, t in teams.items() if visibility.can_receive(t, bill)} == set(TEAMS)


def test_every_default_queue_has_someone_to_open_its_messages(practice, teams, members):
    """No stranded message: whatever the call and its priority, someone may open it."""
    for slug, extra in [("clinical", {"concern": "he is not breathing"}),
                        ("refill", {"medication": "lisinopril", "pharmacy": "CVS",
                                    "days_left": 2, "date_of_birth": dt.date(1958, 4, 2)}),
                        ("scheduling", {}), ("new-patient", {}),
                        ("billing", {"question": "a charge"}),
                        ("complaint", {"complaint": "rude"}),
                        ("records", {"request": "my chart"}), ("other", {"message": "hi"})]:
        made = message(practice, slug, **extra)
        assert any(visibility.can_open(m, made) for m in members.values()), slug
