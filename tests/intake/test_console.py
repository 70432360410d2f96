"""The agent console: the practice's greeting and the emergency disclaimer, the call type's
fields and triage questions, the protocol's priority and script before saving, the saved
message routed, and the read-back for the agent who took the call, and no one else."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

import pytest
import time_machine
import yaml
from django.utils.html import strip_tags

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message
from clinicline.practices.models import GatewayAccount, Holiday
from clinicline.triage.engine import questions_for
from clinicline.triage.service import protocol_for
from tests.conftest import make_member, make_practice, signed_in
from tests.shared import SCENARIOS

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
SCENARIO = yaml.safe_load((SCENARIOS / "urgent-clinical.yaml").read_text(encoding="utf-8"))
AFTER_HOURS = dt.datetime.fromisoformat(SCENARIO["when"]).replace(tzinfo=NY)  # Sat 2:10 a.m.
OFFICE_HOURS = dt.datetime(2026, 12, 8, 11, 0, tzinfo=NY)  # a Tuesday, 11 a.m.
CONSOLE = "/p/riverside/console/"
# What the agent learns by asking: surgery within 6 weeks, and a calf that is swollen.
SCENARIO_YES = {"recent_surgery", "postop_signs", "breathing"}


def answers(practice, call_type: str, yes: set[str] = frozenset()) -> dict[str, str]:
    """Every question the protocol asks for this call type, answered; follow-ups too."""
    spec = protocol_for(practice).spec
    given = {q: True for q in yes}
    return {f"t-{q.id}": "yes" if q.id in yes else "no"
            for q in questions_for(spec, call_type, given)}


def call_data(practice, call_type: str, fields: dict, yes: set[str] = frozenset(),
              token: str = "") -> dict[str, str]:
    return {"call_type": call_type, "call_token": token, **fields,
            **answers(practice, call_type, yes)}


def raw(response) -> str:
    """The page as sent, entities decoded: attributes and form values included."""
    return html.unescape(response.content.decode())


def text(response) -> str:
    """What the page says, as one line of words."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


@pytest.fixture
def clock():
    with time_machine.travel(AFTER_HOURS, tick=True) as traveller:
        yield traveller


def test_the_urgent_clinical_drill_from_greeting_to_read_back(practice, agent, clock):
    client = signed_in(agent)
    page = text(client.get(CONSOLE + "?type=clinical"))
    assert f"Thank you for calling {practice.name}, this is the answering service." in page
    assert "If this is a medical emergency, please hang up and dial 911." in page
    assert "After hours" in page and "Monday, December 7 at 8:00 AM" in page
    assert "Is the patient having trouble breathing" in page

    data = call_data(practice, "clinical", SCENARIO["fields"], SCENARIO_YES, token="a" * 32)
    checked = client.post(CONSOLE + "check/", data)
    assert checked.status_code == 200
    body = text(checked)
    assert "Priority: EMERGENCY" in body
    assert "Tell the caller now" in body and "Please call 911 now." in body
    assert "Please hang up and dial 911 now." in body  # the protocol's own words
    assert Message.objects.count() == 0  # checking saves nothing

    saved = client.post(CONSOLE + "save/", data)
    assert saved.status_code == 302 and saved.url == CONSOLE + "taken/"
    message = Message.objects.get()
    assert message.priority == SCENARIO["expect"]["priority"]
    assert message.advise_911 is SCENARIO["expect"]["advise_emergency_services"]
    assert message.team.slug == SCENARIO["expect"]["routed_to"]
    assert message.taken_by == agent and message.source == "agent"
    assert not message.office_open
    assert {"recent_surgery": True, "postop_signs": True, "breathing": True}.items() \
        <= message.answers.items()

    read_back = client.get(saved.url)
    body = text(read_back)
    assert read_back.status_code == 200
    assert "Make sure the caller hangs up and dials 911." in body
    assert "The on-call provider will call you back within 30 minutes." in body
    assert "ending in 0142" in body and "5550142" not in raw(read_back)
    assert "routed to Clinical" in body
    for secret in SCENARIO["expect"]["secrets"]:  # the read-back repeats nothing typed
        if secret.lower() not in message.script.lower():  # ("breathing" is the protocol's)
            assert secret not in raw(read_back)
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(message.pk),
                                     actor_id=agent.pk).exists()
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(message.pk),
                                     actor_id=agent.pk).exists()


@pytest.mark.parametrize("concern,line", [
    ("My toddler swallowed a laundry pod, she seems fine.",
     "Please call Poison Control now at 1-800-222-1222."),
    ("My son says he wants to die.", "Please call or text 988, the Suicide and Crisis"),
])
def test_an_emergency_names_its_own_line(practice, agent, clock, concern, line):
    """The protocol's advice action picks the practice's words for it (scripts)."""
    client = signed_in(agent)
    fields = {**SCENARIO["fields"], "concern": concern}
    body = text(client.post(CONSOLE + "check/", call_data(practice, "clinical", fields)))
    assert "Priority: EMERGENCY" in body
    assert "Tell the caller now" in body and line in body
    assert "Please call 911 now." not in body  # not the 911 advice: its own line


def test_the_greeting_in_office_hours_and_on_a_holiday(practice, agent):
    with time_machine.travel(OFFICE_HOURS, tick=True):
        client = signed_in(agent)
        body = text(client.get(CONSOLE))
        assert "Office open" in body and "After hours" not in body
        assert f"Thank you for calling {practice.name}. Everyone at the front desk" in body
        assert "If this is a medical emergency, please hang up and dial 911." in body
        Holiday.objects.create(practice=practice, date=OFFICE_HOURS.date(), name="Founders Day")
        body = text(client.get(CONSOLE))
        assert "After hours" in body and "closed today for Founders Day" in body
        assert "this is the answering service" in body
        assert "Wednesday, December 9 at 8:00 AM" in body


def test_a_routine_call_after_hours_promises_a_call_when_the_office_opens(practice, agent,
                                                                         clock):
    client = signed_in(agent)
    fields = {"patient_name": "Ana Ruiz", "callback_number": "(617) 555-0199"}
    response = client.post(CONSOLE + "save/", call_data(practice, "scheduling", fields))
    message = Message.objects.get()
    assert (message.priority, message.team.slug) == ("routine", "scheduling")
    assert message.fields["callback_number"] == "+16175550199"
    body = text(client.get(response.url))
    assert "Priority: ROUTINE" in body and "hang up and dials 911" not in body
    assert "The office will call you back after it opens, Monday, December 7 at 8:00 AM." in body


def test_the_call_page_shows_only_that_types_fields(practice, agent):
    body = text(signed_in(agent).get(CONSOLE + "?type=refill"))
    for label in ("Medication and dose", "Pharmacy", "Days of medicine left"):
        assert label in body
    assert "Concern" not in body
    assert "Is it insulin, an anti-seizure medicine" in body
    assert "Is the patient having trouble breathing" not in body  # not a refill question


@pytest.mark.parametrize("step", ["check/", "save/"])
def test_bad_input_is_refused_whole_with_clear_messages(practice, agent, step):
    client = signed_in(agent)
    fields = {"patient_name": "", "date_of_birth": "1958-02-30", "callback_number": "call me",
              "concern": "Fever since yesterday."}
    response = client.post(CONSOLE + step, call_data(practice, "clinical", fields))
    assert response.status_code == 400
    body = text(response)
    assert "Nothing was saved. Fix what is marked below." in body
    assert "This field is required." in body
    assert "“1958-02-30” is not a date on the calendar; write it as YYYY-MM-DD." in body
    assert "That is not a phone number. Give it with the area code." in body
    assert Message.objects.count() == 0
    assert not AuditEvent.objects.filter(action=Action.CREATE).exists()


def test_every_triage_question_must_be_answered_and_follow_ups_when_asked(practice, agent):
    client = signed_in(agent)
    fields = dict(SCENARIO["fields"])
    data = call_data(practice, "clinical", fields, {"recent_surgery"})
    del data["t-postop_signs"]  # asked, because surgery was yes, but not answered
    response = client.post(CONSOLE + "save/", data)
    assert response.status_code == 400
    assert "Ask this question: answer yes or no." in text(response)
    assert Message.objects.count() == 0


def test_a_follow_up_to_a_no_is_not_recorded(practice, agent):
    client = signed_in(agent)
    fields = {**SCENARIO["fields"], "concern": "Knee is stiff after physical therapy."}
    data = {**call_data(practice, "clinical", fields), "t-postop_signs": "yes"}
    assert client.post(CONSOLE + "save/", data).status_code == 302
    message = Message.objects.get()
    assert "postop_signs" not in message.answers and message.answers["recent_surgery"] is False
    assert message.priority == "routine"


def test_an_unknown_call_type_is_refused(practice, agent):
    response = signed_in(agent).post(CONSOLE + "save/", {"call_type": "gossip"})
    assert response.status_code == 400
    assert "Pick a call type first." in text(response)
    assert Message.objects.count() == 0


def test_saving_twice_keeps_one_message(practice, agent, clock):
    client = signed_in(agent)
    data = call_data(practice, "clinical", SCENARIO["fields"], SCENARIO_YES, token="b" * 32)
    first, second = client.post(CONSOLE + "save/", data), client.post(CONSOLE + "save/", data)
    assert first.url == second.url == CONSOLE + "taken/"
    assert Message.objects.count() == 1


@pytest.mark.parametrize("role", [Role.BILLING, Role.COMPLIANCE_OFFICER, Role.PRACTICE_ADMIN])
def test_only_members_who_take_calls_see_the_console(practice, role):
    client = signed_in(make_member(practice, role))
    for url in (CONSOLE, CONSOLE + "taken/", CONSOLE + "return-call/"):
        assert client.get(url).status_code == 404, url
    for url in (CONSOLE + "check/", CONSOLE + "save/", CONSOLE + "return-call/"):
        data = call_data(practice, "clinical", SCENARIO["fields"], SCENARIO_YES)
        assert client.post(url, data).status_code == 404, url
    assert Message.objects.count() == 0


@pytest.mark.parametrize("role", [Role.AGENT, Role.FRONT_DESK, Role.NURSE, Role.PROVIDER,
                                  Role.SCHEDULER, Role.PRACTICE_MANAGER])
def test_everyone_who_takes_calls_sees_the_console(practice, role):
    assert signed_in(make_member(practice, role)).get(CONSOLE).status_code == 200


def test_the_read_back_is_only_for_the_agent_who_took_the_call(practice, agent, clock):
    client = signed_in(agent)
    data = call_data(practice, "clinical", SCENARIO["fields"], SCENARIO_YES)
    client.post(CONSOLE + "save/", data)
    assert client.get(CONSOLE + "taken/").status_code == 200

    colleague = signed_in(make_member(practice, Role.AGENT, "second-agent"))
    other = colleague.get(CONSOLE + "taken/")
    assert other.status_code == 302 and other.url == CONSOLE
    fresh = text(colleague.get(other.url))  # a fresh console, nothing of the call
    assert "Priority" not in fresh and "0142" not in fresh

    for _ in range(4):  # half an hour later, the agent busy all along (never idle)
        clock.shift(dt.timedelta(minutes=8))
        assert client.get(CONSOLE).status_code == 200
    expired = client.get(CONSOLE + "taken/")
    assert expired.status_code == 302
    assert "There is no call to read back" in text(client.get(expired.url))


def test_the_read_back_does_not_follow_the_agent_to_another_practice(practice, agent, clock):
    lakeside = make_practice("lakeside", "Lakeside Pediatrics")
    make_member(lakeside, Role.AGENT, "agent-lakeside")
    client = signed_in(agent)
    agent.memberships.create(practice=lakeside, role=Role.AGENT)
    client.post(CONSOLE + "save/", call_data(practice, "clinical", SCENARIO["fields"],
                                             SCENARIO_YES))
    assert client.get("/p/lakeside/console/taken/").status_code == 302


def test_the_picker_follows_the_dialled_number(practice, agent):
    lakeside = make_practice("lakeside", "Lakeside Pediatrics")
    lakeside.callback_number = "+13125550100"
    lakeside.save()
    agent.memberships.create(practice=lakeside, role=Role.FRONT_DESK)
    GatewayAccount.objects.create(practice=lakeside, phone_number="+13125550111",
                                  account_sid="AC" + "0" * 32, auth_token="token")
    client = signed_in(agent)
    page = text(client.get("/console/"))
    assert "Riverside Family Medicine" in page and "Lakeside Pediatrics" in page
    assert client.get("/console/?dialled=%2B13125550111").url == "/p/lakeside/console/"
    assert client.get("/console/?dialled=(617) 555-0100").url == CONSOLE
    lakeside.callback_number = practice.callback_number  # a shared line: the agent picks
    lakeside.save()
    shared = text(client.get("/console/?dialled=6175550100"))
    assert "Several of your practices answer that number." in shared
    assert "Riverside Family Medicine" in shared and "Lakeside Pediatrics" in shared
    unknown = client.get("/console/?dialled=%2B12125550123")
    assert unknown.status_code == 200 and "None of your practices answers" in text(unknown)
    assert "That is not a phone number." in text(client.get("/console/?dialled=pizza"))


def test_the_picker_never_offers_another_practices_line(practice, agent):
    stranger = make_practice("hillside", "Hillside Cardiology")
    GatewayAccount.objects.create(practice=stranger, phone_number="+13125550112",
                                  account_sid="AC" + "1" * 32, auth_token="token")
    client = signed_in(agent)
    response = client.get("/console/?dialled=%2B13125550112")
    assert response.status_code == 200 and "Hillside" not in text(response)
    # A single practice: straight to its console.
    assert client.get("/console/").url == CONSOLE


def test_the_picker_lists_only_practices_where_the_member_takes_calls(practice, biller):
    body = text(signed_in(biller).get("/console/"))
    assert "You do not take calls for any practice." in body
    assert "Riverside" not in raw(signed_in(biller).get("/console/")).split("<main>")[1]
