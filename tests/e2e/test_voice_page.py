"""A voice page in a real browser: the agent takes the urgent call; the on-call provider's
virtual phone rings; they answer, enter their voice PIN, hear the callback number and press
1; the agent's read-back shows the page acknowledged by call. And when the answering
machine takes it, the page stays open and escalates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinicline.oncall import contacts, pages
from clinicline.oncall.models import ContactMethod
from clinicline.oncall.models import Page as PageRow
from tests.e2e.test_layout import SCREENSHOTS, check
from tests.e2e.test_paging import on_call_provider, paged_on_the_phone
from tests.e2e.test_urgent_clinical import SCENARIO

PROVIDER_PHONE = "+16175550190"
PIN = "4827"
WAIT_S = 60


def called_provider(practice):
    """The on-call provider, reached by a call only, with a voice PIN; one step, once."""
    provider = on_call_provider(practice, ContactMethod.Kind.VOICE, wait_s=WAIT_S, repeat=1)
    contacts.set_pin(provider, PIN)
    return provider


def ringing_phone(live_server, open_page):
    practice, provider, console, phone = paged_on_the_phone(live_server, open_page,
                                                            called_provider)
    expect(console.locator(".page-live")).to_contain_text("Notified osei by call")
    expect(phone.get_by_role("heading", name="The practice is calling")).to_be_visible()
    return practice, provider, console, phone


@pytest.mark.django_db(transaction=True)
def test_the_provider_answers_enters_the_pin_and_presses_1(live_server, open_page):
    practice, provider, console, phone = ringing_phone(live_server, open_page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = check(phone, "simulator-page-call")

    phone.get_by_role("button", name="Answer", exact=True).click()
    call = phone.locator(".sim-call")
    expect(call).to_contain_text("Please enter your voice PIN, then press pound.")
    for secret in (*SCENARIO["expect"]["secrets"], "0 1 4 2"):
        assert secret not in call.inner_text()
    phone.get_by_label("Or type several keys").fill(PIN + "#")
    phone.get_by_role("button", name="Press", exact=True).click()
    number = " ".join(SCENARIO["fields"]["callback_number"][-4:])
    expect(call).to_contain_text("The callback number is ")
    expect(call).to_contain_text(number)
    phone.locator(".sim-keypad").get_by_role("button", name="1", exact=True).click()
    expect(phone.locator(".sim-history")).to_contain_text("Acknowledged. Thank you.")
    row = PageRow.objects.get()
    assert (row.state, row.acknowledged_by) == ("acknowledged", provider)

    console.reload()
    expect(console.locator(".page-live")).to_contain_text("Page: Acknowledged")
    expect(console.locator(".page-live")).to_contain_text("Acknowledged osei by call")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_answering_machine_takes_it_and_the_page_escalates(live_server, open_page):
    practice, provider, console, phone = ringing_phone(live_server, open_page)
    phone.get_by_role("button", name="Let the answering machine take it").click()
    expect(phone.locator(".sim-history")).to_contain_text(
        "An urgent message from Demo Family Practice is waiting.")
    row = PageRow.objects.get()
    assert row.state == "open"
    # The step's wait runs out with nobody's acknowledgement: the page goes on (here, to the
    # alarm: the policy has one step, once).
    pages.run_due(now=timezone.now() + dt.timedelta(seconds=WAIT_S + 1))
    row.refresh_from_db()
    assert row.state == "alarmed"
    console.reload()
    expect(console.locator(".page-live")).to_contain_text("Answering machine osei by call")
    expect(console.locator(".page-live")).to_contain_text("Page: Alarmed")
