"""Working a message: each step a conditional update with its audit event beside it; a
lost race or bad input changes nothing; audit rows and read receipts hold no PHI."""

from __future__ import annotations

import pytest
from django.db import connection

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox import work
from clinicline.inbox.models import Message, MessageNote, MessageStatus, ReadReceipt
from clinicline.inbox.routing import default_team
from clinicline.intake.service import call_types_for, take_message
from clinicline.practices.models import Practice
from tests.conftest import make_member, phi_in_audit

pytestmark = pytest.mark.django_db

CONCERN = "Calf swollen after knee surgery"
PHI = ("Walter", "Okafor", "5550142", "Calf", "surgery")


def clinical(practice: Practice) -> Message:
    return take_message(practice, call_types_for(practice).get("clinical"), {
        "patient_name": "Walter Okafor", "callback_number": "+16175550142",
        "concern": CONCERN})


def membership(practice: Practice, role: Role, name: str) -> Membership:
    return Membership.objects.get(user=make_member(practice, role, name), practice=practice)


@pytest.fixture
def nurse_a(practice) -> Membership:
    return membership(practice, Role.NURSE, "nurse-a")


@pytest.fixture
def nurse_b(practice) -> Membership:
    return membership(practice, Role.NURSE, "nurse-b")


def events(action: Action, message: Message) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(message.pk)))


def assert_no_phi(event: AuditEvent) -> None:
    assert phi_in_audit(event, PHI) == []


def test_opening_writes_a_read_receipt_and_an_audit_view_naming_the_fields(practice, nurse_a):
    message = clinical(practice)
    work.open_for_reading(nurse_a, message)
    work.open_for_reading(nurse_a, message)
    assert ReadReceipt.objects.filter(message=message, user=nurse_a.user).count() == 2
    views = events(Action.VIEW, message)
    assert len(views) == 2
    assert views[0].actor_id == nurse_a.user_id
    assert set(views[0].fields.split(",")) >= {"patient_name", "concern", "triage"}
    assert_no_phi(views[0])


def test_two_nurses_claim_one_wins(practice, nurse_a, nurse_b):
    message = clinical(practice)
    # Both loaded the message while it was new; only the conditional update decides.
    seen_by_a, seen_by_b = Message.objects.get(pk=message.pk), Message.objects.get(pk=message.pk)
    work.claim(nurse_a, seen_by_a)
    with pytest.raises(work.Conflict):
        work.claim(nurse_b, seen_by_b)
    message.refresh_from_db()
    assert (message.status, message.claimed_by) == (MessageStatus.CLAIMED, nurse_a.user)
    claims = events(Action.MESSAGE_CLAIM, message)
    assert [e.actor_id for e in claims] == [nurse_a.user_id]


def test_close_requires_a_known_outcome_and_saves_nothing_otherwise(practice, nurse_a):
    message = clinical(practice)
    for bad in ("", "cured", "CALLED-BACK"):
        with pytest.raises(work.Refused):
            work.close(nurse_a, message, bad)
    message.refresh_from_db()
    assert (message.status, message.outcome, message.closed_at) == (MessageStatus.NEW, "", None)
    assert events(Action.MESSAGE_CLOSE, message) == []
    work.close(nurse_a, message, "called-back")
    message.refresh_from_db()
    assert (message.status, message.outcome, message.closed_by) == (
        MessageStatus.CLOSED, "called-back", nurse_a.user)
    [closed] = events(Action.MESSAGE_CLOSE, message)
    assert closed.reason == "called-back"
    assert_no_phi(closed)


def test_a_message_closes_once(practice, nurse_a, nurse_b):
    message = clinical(practice)
    stale = Message.objects.get(pk=message.pk)
    work.close(nurse_a, message, "resolved")
    with pytest.raises(work.Conflict):
        work.close(nurse_b, stale, "no-action")
    message.refresh_from_db()
    assert (message.outcome, message.closed_by) == ("resolved", nurse_a.user)


def test_a_message_someone_else_claimed_is_theirs_to_close(practice, nurse_a, nurse_b):
    message = clinical(practice)
    work.claim(nurse_a, message)
    with pytest.raises(work.Conflict):
        work.close(nurse_b, message, "resolved")
    work.close(nurse_a, message, "resolved")
    message.refresh_from_db()
    assert message.status == MessageStatus.CLOSED


def test_a_note_is_sealed_and_its_audit_names_no_words(practice, nurse_a):
    message = clinical(practice)
    work.add_note(nurse_a, message, "Called back; Walter says the calf is worse")
    assert [n.body for n in message.notes.all()] == [
        "Called back; Walter says the calf is worse"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {MessageNote._meta.db_table}")  # noqa: S608
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "Walter" not in stored and "calf" not in stored
    [noted] = events(Action.MESSAGE_NOTE, message)
    assert noted.fields == "notes"
    assert_no_phi(noted)


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (work.NOTE_MAX_CHARS + 1)])
def test_an_empty_or_overlong_note_is_refused(practice, nurse_a, body):
    message = clinical(practice)
    with pytest.raises(work.Refused):
        work.add_note(nurse_a, message, body)
    assert not MessageNote.objects.exists()
    assert events(Action.MESSAGE_NOTE, message) == []


def test_reassign_to_a_team_and_a_member_who_may_open_it(practice, nurse_a, nurse_b):
    message = clinical(practice)
    refills = default_team(practice, "refills")
    was = message.team_id
    work.reassign(nurse_a, message, team_id=refills.pk, user_id=nurse_b.user_id)
    message.refresh_from_db()
    assert (message.team, message.status, message.claimed_by) == (
        refills, MessageStatus.CLAIMED, nurse_b.user)
    [assigned] = events(Action.MESSAGE_ASSIGN, message)
    assert assigned.fields == "team,claimed_by"
    assert assigned.reason == f"team {was}->{refills.pk} member {nurse_b.user_id}"


def test_reassign_refuses_a_queue_or_person_who_may_not_open_it(practice, other_practice,
                                                               nurse_a):
    message = clinical(practice)
    billing = default_team(practice, "billing")
    biller = membership(practice, Role.BILLING, "biller")
    foreign = default_team(other_practice, "refills")
    for target in ({"team_id": billing.pk}, {"team_id": foreign.pk}, {"team_id": "x"},
                   {"user_id": biller.user_id}, {"user_id": 999999}, {}):
        with pytest.raises(work.Refused):
            work.reassign(nurse_a, message, **target)
    message.refresh_from_db()
    assert (message.team.slug, message.status) == ("clinical", MessageStatus.NEW)
    assert events(Action.MESSAGE_ASSIGN, message) == []


def test_a_clinical_message_moved_to_a_shared_queue_is_not_assigned_to_non_clinical_staff(
        practice, nurse_a):
    message = clinical(practice)
    scheduling = default_team(practice, "scheduling")
    front_desk = membership(practice, Role.FRONT_DESK, "front-desk")
    with pytest.raises(work.Refused):  # the front desk works scheduling, but not clinical
        work.reassign(nurse_a, message, team_id=scheduling.pk, user_id=front_desk.user_id)
    message.refresh_from_db()
    assert (message.team.slug, message.claimed_by) == ("clinical", None)


def test_a_closed_message_is_not_reassigned(practice, nurse_a, nurse_b):
    message = clinical(practice)
    work.close(nurse_a, message, "resolved")
    with pytest.raises(work.Conflict):
        work.reassign(nurse_a, message, user_id=nurse_b.user_id)
    message.refresh_from_db()
    assert message.claimed_by is None
