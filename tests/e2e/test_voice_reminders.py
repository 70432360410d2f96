"""Voice reminders and results links in a real browser.

The nurse opens Walter Okafor's phone in the simulator: the practice's reminder call rings;
answered, it speaks the reminder and takes "press 1"; let the answering machine take it,
and the voicemail script is left (he consented to voicemails). Then the patient opens a
results-ready link on a browser that is signed in to nothing: it asks for his date of
birth, refuses a wrong one, and after the right one says only how to get his results."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from clinicline.accounts.roles import Role
from clinicline.outbox import service as outbox
from clinicline.outreach import results, voice
from clinicline.outreach.appointment_models import AppointmentStatus
from clinicline.patients.models import Channel, Purpose
from clinicline.practices.models import GatewayAccount, Provider
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import OVERFLOW, SCREENSHOTS, SPILL, WIDTHS, check
from tests.outreach.voice_support import booked_reminder, consent_to

WALTER_MOBILE = "+16175550142"
SECRETS = ("Walter", "Okafor", "1958")


def practice_with_line():
    practice = make_practice()
    GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                  account_sid="AC" + "1" * 32,
                                  auth_token="riverside-test-token", test_mode=True)
    return practice


def walters_phone(live_server, open_page, practice):
    nurse = make_member(practice, Role.NURSE, "nurse")
    page = open_page()
    log_in(page, live_server.url, nurse)
    page.goto(f"{live_server.url}/p/{practice.slug}/simulator/")
    page.locator("input[name=number]").fill(WALTER_MOBILE)
    page.locator("input[name=number]").press("Enter")
    page.wait_for_load_state()
    return page


def shoot(page, name: str) -> list[str]:
    """Photograph the page as it is (a POST's answer: no reload) at each width."""
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SCREENSHOTS / f"{name}-{width_name}.png", full_page=True)
        if page.evaluate(OVERFLOW) > 0 or page.evaluate(SPILL) > 0:
            problems.append(f"{name} at {width}px overflows")
    return problems


@pytest.mark.django_db(transaction=True)
def test_a_person_answers_the_reminder_and_presses_1(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = practice_with_line()
    reminder = booked_reminder(practice, make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    voice.place_reminder_call(reminder, to=WALTER_MOBILE)
    assert outbox.send_due() == 1
    phone = walters_phone(live_server, open_page, practice)
    expect(phone.get_by_role("heading", name="The practice is calling")).to_be_visible()
    phone.get_by_role("button", name="Answer", exact=True).click()
    call = phone.locator(".sim-call")
    expect(call).to_contain_text("with a reminder of your appointment with Dr. Amara Osei")
    expect(call).to_contain_text("To confirm, press 1.")
    problems = check(phone, "voice-reminder-call")
    for secret in SECRETS:
        assert secret not in call.inner_text()
    phone.locator(".sim-keypad").get_by_role("button", name="1", exact=True).click()
    expect(phone.locator(".sim-history")).to_contain_text("Your appointment is confirmed.")
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.CONFIRMED
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_answering_machine_gets_the_voicemail_script(live_server, open_page):
    practice = practice_with_line()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    reminder = booked_reminder(practice, admin)
    consent_to(reminder.appointment.patient, Channel.VOICEMAIL,
               Purpose.APPOINTMENT_REMINDERS, admin)
    voice.place_reminder_call(reminder, to=WALTER_MOBILE)
    assert outbox.send_due() == 1
    phone = walters_phone(live_server, open_page, practice)
    phone.get_by_role("button", name="Let the answering machine take it").click()
    expect(phone.locator(".sim-history")).to_contain_text(
        "Hello, this is a message from Dr. Amara Osei's office regarding your appointment.")


@pytest.mark.django_db(transaction=True)
def test_the_results_link_asks_for_the_date_of_birth_first(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = practice_with_line()
    nurse = make_member(practice, Role.NURSE, "nurse")
    patient = make_patient(practice, mrn="RFM-100142")
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    # The link is recorded whatever the text's decision (here: an unverified number).
    asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    page = open_page()
    page.goto(f"{live_server.url}/r/{asked.token}/")
    expect(page.get_by_text("please enter your date of birth")).to_be_visible()
    problems = check(page, "results-link")
    page.get_by_label("Your date of birth").fill("1960-01-01")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("does not match our records")
    page.get_by_label("Your date of birth").fill(dt.date(1958, 4, 2).isoformat())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your results are ready")).to_be_visible()
    problems += shoot(page, "results-link-shown")
    for secret in SECRETS:
        assert secret not in page.content()
    assert problems == []
