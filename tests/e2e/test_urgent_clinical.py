"""The urgent-clinical drill in a real browser: the agent takes the call by keyboard and
is told to advise 911; the message lands in the clinical queue; the biller cannot open it;
a nurse opens it, leaving a read receipt and an audit VIEW."""

from __future__ import annotations

import pytest
import yaml
from playwright.sync_api import expect

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message, ReadReceipt
from tests.conftest import make_member, make_practice
from tests.e2e.conftest import log_in
from tests.shared import SCENARIOS

SCENARIO = yaml.safe_load((SCENARIOS / "urgent-clinical.yaml").read_text(encoding="utf-8"))
# What the agent learns by asking: he is short of breath, had surgery, his calf is swollen.
YES = {"breathing", "recent_surgery", "postop_signs"}


def answer_the_triage_questions(page) -> list[str]:
    """Y or N on each question as it takes the focus, as an agent does; returns the order."""
    asked: list[str] = []
    page.keyboard.press("Tab")  # from the last field to the first question
    while True:
        question = page.evaluate(
            "document.activeElement.closest('fieldset[data-question]')?.dataset.question")
        if not question:
            return asked
        asked.append(question)
        page.keyboard.press("y" if question in YES else "n")


def take_the_call(page, base_url: str) -> None:
    """The agent takes the drill's call by keyboard, up to the read-back."""
    fields = SCENARIO["fields"]
    page.goto(f"{base_url}/console/")  # one practice: straight to its console
    expect(page.get_by_text("If this is a medical emergency, please hang up and dial 911."))\
        .to_be_visible()
    page.keyboard.press("1")  # the first call type
    expect(page.get_by_role("heading", name="Clinical question or symptoms")).to_be_visible()
    expect(page.locator("#id_patient_name")).to_be_focused()
    for name in ("patient_name", "date_of_birth", "callback_number"):
        page.keyboard.type(fields[name])
        page.keyboard.press("Tab")
    expect(page.locator("#id_concern")).to_be_focused()
    page.keyboard.type(fields["concern"])
    asked = answer_the_triage_questions(page)
    assert asked[0] == "breathing"
    assert asked.index("postop_signs") == asked.index("recent_surgery") + 1  # a follow-up
    assert "head_injury_signs" not in asked  # its question was no
    page.keyboard.press("Enter")  # on "Check priority"

    expect(page.locator(".decision .priority")).to_have_text("EMERGENCY")
    expect(page.locator(".decision .advice")).to_have_text("“Please call 911 now.”")
    expect(page.locator(".decision .say")).to_contain_text("Please hang up and dial 911 now.")
    assert Message.objects.count() == 0  # nothing is saved before Save
    save = page.locator("[data-save]")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")

    page.wait_for_url("**/console/taken/")


@pytest.mark.django_db(transaction=True)
def test_the_urgent_clinical_call_end_to_end(live_server, open_page):
    practice = make_practice(SCENARIO["practice"], "Demo Family Practice")
    agent = make_member(practice, Role.AGENT, "agent")
    biller = make_member(practice, Role.BILLING, "biller")
    nurse = make_member(practice, Role.NURSE, "nurse")
    fields = SCENARIO["fields"]

    page = open_page()
    log_in(page, live_server.url, agent)
    take_the_call(page, live_server.url)
    expect(page.get_by_text("Make sure the caller hangs up and dials 911.")).to_be_visible()
    expect(page.locator(".readback")).to_contain_text(
        f"within {practice.urgent_callback_minutes} minutes")
    message = Message.objects.get()
    assert message.priority == SCENARIO["expect"]["priority"] == "emergency"
    assert message.team.slug == SCENARIO["expect"]["routed_to"]
    assert message.advise_911 and message.taken_by == agent
    url = f"{live_server.url}/p/{practice.slug}/inbox/m/{message.pk}/"

    billing_page = open_page()
    log_in(billing_page, live_server.url, biller)
    assert billing_page.goto(url).status == 404
    assert not ReadReceipt.objects.filter(message=message, user=biller).exists()
    for secret in SCENARIO["expect"]["secrets"]:
        assert secret not in billing_page.content()

    nurse_page = open_page()
    log_in(nurse_page, live_server.url, nurse)
    assert nurse_page.goto(url).status == 200
    expect(nurse_page.get_by_text(fields["concern"])).to_be_visible()
    assert ReadReceipt.objects.filter(message=message, user=nurse).count() == 1
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(message.pk),
                                     actor_id=nurse.pk).exists()
