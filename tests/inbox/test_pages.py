"""The secure inbox pages: PHI-free queue lists (live, passive polling), the message page
(every opening a read receipt and an audit event, a 404 for whoever may not open it), and
one POST view per action, refusing bad input with nothing half-saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message, MessageNote, MessageStatus, ReadReceipt
from clinicline.intake.service import call_types_for, take_message
from clinicline.practices.models import Practice
from tests.conftest import make_member, phi_in_audit, signed_in

pytestmark = pytest.mark.django_db

PHI = ("Walter", "Okafor", "1958", "5550142", "rash", "forearm", "charged", "rude")


def message(practice: Practice, call_type: str, **fields: object) -> Message:
    return take_message(practice, call_types_for(practice).get(call_type), {
        "patient_name": "Walter Okafor", "callback_number": "+16175550142", **fields})


def clinical(practice: Practice) -> Message:
    return message(practice, "clinical", date_of_birth=dt.date(1958, 4, 2),
                   concern="A rash on the forearm since Monday")


def url(name: str, practice: Practice, **kwargs: object) -> str:
    return reverse(f"inbox:{name}", kwargs={"practice": practice.slug, **kwargs})


def at(name: str, m: Message) -> str:
    return url(name, m.practice, message_id=m.pk)


def page(client: Client, address: str, **headers: str) -> str:
    response = client.get(address, headers=headers)
    assert response.status_code == 200, address
    return response.content.decode()


@pytest.fixture
def manager(practice) -> User:
    return make_member(practice, Role.PRACTICE_MANAGER, "manager")


@pytest.fixture
def scheduler(practice) -> User:
    return make_member(practice, Role.SCHEDULER, "scheduler")


def test_the_biller_gets_404_for_a_clinical_message_and_never_sees_it_listed(practice, biller):
    m = clinical(practice)
    bill = message(practice, "billing", question="Why was I charged twice?")
    client = signed_in(biller)
    assert client.get(at("message", m)).status_code == 404
    assert client.get(at("message", bill)).status_code == 200
    assert str(m.pk) not in page(client, url("queue", practice, team="billing"))
    assert client.get(url("queue", practice, team="clinical")).status_code == 404
    index = page(client, url("index", practice))
    assert "Clinical" not in index and str(m.pk) not in index
    # The refusal is on the audit trail; nothing was read.
    assert AuditEvent.objects.filter(action=Action.DENIED, object_id=str(m.pk)).count() == 1
    assert not ReadReceipt.objects.filter(message=m).exists()


def test_a_complaint_reaches_the_manager_and_only_the_manager(practice, manager, nurse, biller,
                                                              scheduler):
    complaint = message(practice, "complaint", complaint="The front desk was rude to me")
    assert complaint.team.slug == "practice-manager"
    listed = page(signed_in(manager), url("queue", practice, team="practice-manager"))
    assert at("message", complaint) in listed
    assert signed_in(manager).get(at("message", complaint)).status_code == 200
    for other in (nurse, biller, scheduler):
        client = signed_in(other)
        assert client.get(at("message", complaint)).status_code == 404, other
        queue = client.get(url("queue", practice, team="practice-manager"))
        assert queue.status_code == 404 or at("message", complaint) not in queue.content.decode()


def test_a_nurse_opening_a_message_writes_a_read_receipt_and_an_audit_view(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    shown = page(client, at("message", m))
    assert "A rash on the forearm since Monday" in shown and "Walter Okafor" in shown
    page(client, at("message", m))
    assert ReadReceipt.objects.filter(message=m, user=nurse).count() == 2
    views = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(m.pk))
    assert views.count() == 2
    event = views.first()
    assert event.actor_id == nurse.pk and "concern" in event.fields.split(",")
    assert phi_in_audit(event, PHI) == []
    assert "nurse ·" in page(client, at("message", m))  # the receipts are on the page


def test_the_message_page_says_why_the_priority_is_what_it_is(practice, nurse):
    m = message(practice, "clinical", concern="my 6 week old has a temperature of 100.9F")
    assert m.priority == "emergency"
    shown = page(signed_in(nurse), at("message", m))
    assert "temperature 100.9 °F + age 6 weeks → infant-fever-reading, emergency" in shown


def test_the_queue_list_is_phi_free_and_reads_nothing(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    before = AuditEvent.objects.count()
    listed = page(client, url("queue", practice, team="clinical"))
    assert at("message", m) in listed and "Clinical question or symptoms" in listed
    for secret in PHI:
        assert secret not in listed, secret
    assert AuditEvent.objects.count() == before
    assert not ReadReceipt.objects.exists()


def test_the_queue_puts_emergencies_first(practice, nurse):
    routine = clinical(practice)
    emergency = message(practice, "clinical", concern="he is not breathing")
    assert emergency.priority == "emergency"
    listed = page(signed_in(nurse), url("queue", practice, team="clinical"))
    assert listed.index(str(emergency.pk)) < listed.index(str(routine.pk))


def test_closed_messages_are_on_their_own_tab(practice, nurse):
    m = clinical(practice)
    Message.objects.filter(pk=m.pk).update(status=MessageStatus.CLOSED)
    queue = url("queue", practice, team="clinical")
    client = signed_in(nurse)
    assert str(m.pk) not in page(client, queue)
    assert str(m.pk) in page(client, queue + "?status=closed")


def test_polling_gets_the_rows_and_does_not_keep_the_session_alive(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    session = client.session
    session["last_seen"] -= 120
    session.save()
    seen = client.session["last_seen"]
    response = client.get(url("queue", practice, team="clinical"),
                          headers={"HX-Request": "true", "X-Clinicline-Passive": "1"})
    assert response.status_code == 200 and response["X-Clinicline-Fragment"] == "queue"
    rows = response.content.decode()
    assert str(m.pk) in rows and "<html" not in rows
    assert client.session["last_seen"] == seen
    client.get(url("queue", practice, team="clinical"))  # a person's own request does
    assert client.session["last_seen"] > seen


def test_the_queue_page_polls_as_a_passive_request(practice, nurse):
    clinical(practice)
    shown = page(signed_in(nurse), url("queue", practice, team="clinical"))
    assert 'hx-trigger="every' in shown and "X-Clinicline-Passive" in shown
    assert "vendor/htmx-2.0.11.min.js" in shown and "<script>" not in shown


def test_a_billing_question_with_red_flags_goes_to_the_nurses_not_the_biller(practice,
                                                                              biller, nurse):
    flagged = message(practice, "billing",
                      question="I am pregnant and was charged twice for the ultrasound")
    plain = message(practice, "billing", question="Why was I charged twice?")
    listed = page(signed_in(biller), url("queue", practice, team="billing"))
    assert str(flagged.pk) not in listed and str(plain.pk) in listed
    assert signed_in(biller).get(at("message", flagged)).status_code == 404
    assert str(flagged.pk) in page(signed_in(nurse), url("queue", practice, team="clinical"))


def test_claim_then_a_second_claim_is_a_conflict(practice, nurse):
    m = clinical(practice)
    other = signed_in(make_member(practice, Role.PROVIDER, "dr-osei"))
    response = signed_in(nurse).post(at("claim", m))
    assert response.status_code == 302 and response["Location"] == at("message", m)
    assert other.post(at("claim", m)).status_code == 409
    m.refresh_from_db()
    assert m.claimed_by == nurse


def test_actions_are_post_only(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    for name in ("claim", "reassign", "note", "close"):
        assert client.get(at(name, m)).status_code == 405, name
    m.refresh_from_db()
    assert m.status == MessageStatus.NEW


def test_a_member_who_may_not_open_it_gets_404_for_every_action(practice, biller):
    m = clinical(practice)
    client = signed_in(biller)
    for name, data in (("claim", {}), ("note", {"body": "x"}), ("close", {"outcome": "resolved"}),
                       ("reassign", {"member": str(biller.pk)})):
        assert client.post(at(name, m), data).status_code == 404, name
    m.refresh_from_db()
    assert (m.status, m.claimed_by) == (MessageStatus.NEW, None)


def test_close_with_an_unknown_outcome_is_400_and_changes_nothing(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    response = client.post(at("close", m), {"outcome": "cured"})
    assert response.status_code == 400 and "Choose an outcome" in response.content.decode()
    m.refresh_from_db()
    assert (m.status, m.outcome) == (MessageStatus.NEW, "")
    response = client.post(at("close", m), {"outcome": "called-back"})
    assert response.status_code == 302
    assert response["Location"] == url("queue", practice, team="clinical")
    m.refresh_from_db()
    assert (m.status, m.outcome, m.closed_by) == (MessageStatus.CLOSED, "called-back", nurse)


def test_an_empty_note_is_400_and_a_note_is_kept(practice, nurse):
    m = clinical(practice)
    client = signed_in(nurse)
    assert client.post(at("note", m), {"body": "  "}).status_code == 400
    assert not MessageNote.objects.exists()
    assert client.post(at("note", m), {"body": "Left a voicemail"}).status_code == 302
    assert "Left a voicemail" in page(client, at("message", m))


def test_reassigning_to_a_queue_that_cannot_take_it_is_400(practice, nurse):
    m = clinical(practice)
    billing = message(practice, "billing", question="a charge").team
    response = signed_in(nurse).post(at("reassign", m), {"team": str(billing.pk)})
    assert response.status_code == 400 and "cannot take this message" in response.content.decode()
    m.refresh_from_db()
    assert m.team.slug == "clinical"


@pytest.mark.parametrize("field", ["team", "member"])
@pytest.mark.parametrize("value", ["²", "١", str(2**63), "9" * 40, "-1", "1e3"])
def test_reassigning_to_an_id_that_is_no_id_is_400(practice, nurse, field, value):
    m = clinical(practice)
    response = signed_in(nurse).post(at("reassign", m), {field: value})
    assert response.status_code == 400 and "cannot" in response.content.decode()
    m.refresh_from_db()
    assert (m.team.slug, m.status) == ("clinical", MessageStatus.NEW)
    assert not AuditEvent.objects.filter(action=Action.MESSAGE_ASSIGN).exists()


def test_reassigning_a_message_away_returns_to_the_inbox(practice, manager, scheduler):
    m = message(practice, "scheduling", preferred_times="mornings")
    manager_queue = message(practice, "complaint", complaint="rude").team
    response = signed_in(scheduler).post(at("reassign", m), {"team": str(manager_queue.pk)})
    assert response.status_code == 302 and response["Location"] == url("index", practice)
    m.refresh_from_db()
    assert m.team == manager_queue
    assert signed_in(manager).get(at("message", m)).status_code == 200


def test_the_index_counts_each_queue(practice, nurse):
    clinical(practice)
    clinical(practice)
    refill = message(practice, "refill", medication="lisinopril", pharmacy="CVS", days_left=3,
                     date_of_birth=dt.date(1958, 4, 2))
    Message.objects.filter(pk=refill.pk).update(status=MessageStatus.CLAIMED)
    index = page(signed_in(nurse), url("index", practice))
    assert url("queue", practice, team="clinical") in index
    assert url("queue", practice, team="refills") in index
    rows = {line.strip() for line in index.splitlines() if "<td>" in line}
    assert "<td>2</td><td>2</td>" in rows and "<td>0</td><td>1</td>" in rows


def test_roles_without_a_queue_see_an_empty_inbox(practice, agent, compliance_officer):
    m = clinical(practice)
    for user in (agent, compliance_officer):
        client = signed_in(user)
        assert "works no inbox queue" in page(client, url("index", practice))
        assert client.get(at("message", m)).status_code == 404
