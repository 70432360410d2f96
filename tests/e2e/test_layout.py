"""The frame on a phone and on a laptop: the practice's home, the console, a queue, a
message, the audit trail, the staff pages, a member's contact methods and the 404 page at
390 px and at 1366 px wide, each photographed
(var/screenshots/, for a person to look at) and each failing if anything runs off the side
of the screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import contacts
from clinicline.oncall.models import ContactMethod
from clinicline.practices.models import Vendor
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = {"phone": (390, 844), "laptop": (1366, 768)}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# And inside the page: a table wider than the column it sits in (it pokes past the cards).
SPILL = "(m => m.scrollWidth - m.clientWidth)(document.querySelector('main'))"


def seed_messages(practice) -> list:
    """A night's worth: clinical calls with long words, a refill, and a text conversation."""
    types = call_types_for(practice)
    texts = [{"at": "2026-12-01T07:14:00+00:00", "from": "caller",
              "body": "My prescription ran out yesterday, can someone call me back please?"}]
    made = [take_message(practice, types.get("clinical"), {
        "patient_name": f"Walter Okafor-Featherstonehaugh {n}",
        "date_of_birth": dt.date(1958, 4, 2), "callback_number": "+16175550142",
        "concern": "Swollen left calf since the knee replacement (arthroplasty) two weeks ago; "
                   "mildly short of breath when climbing stairs."},
        answers={"breathing": True, "chest_pain": False, "recent_surgery": True})
        for n in range(3)]
    made.append(take_message(practice, types.get("refill"), {
        "patient_name": "Priya Raman", "date_of_birth": dt.date(1990, 6, 8),
        "medication": "levetiracetam 500 mg", "pharmacy": "Riverside Pharmacy",
        "callback_number": "+12125550187", "days_left": 0}, conversation=texts))
    return made


def seed_trail(practice, nurse, patient) -> None:
    reason = ("Caller reported chest pain while the record was restricted; opened under "
              "break-glass to confirm allergies before the on-call provider rang back. "
              "Reference INC-2026-12-01-0001-CHESTPAIN-ALLERGYCHECK-REQUESTEDBYONCALL")
    record(Action.BREAK_GLASS, actor=nurse, practice=practice, obj=patient, patient=patient,
           reason=reason, fields=["given_name", "family_name", "date_of_birth", "address"])
    record(Action.LOGIN, actor=nurse)


def check(page: Page, name: str) -> list[str]:
    """Photograph the page at each width; return what overflows where."""
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        page.screenshot(path=SCREENSHOTS / f"{name}-{width_name}.png", full_page=True)
        page.evaluate("window.scrollTo(0, 0)")  # past an autofocus: the top of the page
        page.screenshot(path=SCREENSHOTS / f"{name}-{width_name}-screen.png")
        extra = page.evaluate(OVERFLOW)
        if extra > 0:
            problems.append(f"{name} at {width}px runs {extra}px off the screen")
        spill = page.evaluate(SPILL)
        if spill > 0:
            problems.append(f"{name} at {width}px spills {spill}px out of its column")
    return problems


@pytest.mark.django_db(transaction=True)
def test_console_queue_message_and_audit_fit_a_phone_and_a_laptop(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    nurse = make_member(practice, Role.NURSE, "nurse")
    officer = make_member(practice, Role.COMPLIANCE_OFFICER, "compliance")
    patient = make_patient(practice)
    messages = seed_messages(practice)
    seed_trail(practice, nurse, patient)
    home = f"{live_server.url}/p/{practice.slug}"
    problems = []

    page = open_page()
    log_in(page, live_server.url, nurse)
    for name, path in [("home", "/"), ("console", "/console/?type=clinical"),
                       ("queue", f"/inbox/q/{messages[0].team.slug}/"),
                       ("message", f"/inbox/m/{messages[0].pk}/"),
                       ("conversation", f"/inbox/m/{messages[-1].pk}/")]:
        page.goto(home + path)
        problems += check(page, name)

    # The phone's menu opened: still on the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(home + "/")
    page.locator(".site-nav summary", has_text="Practice").click()
    page.screenshot(path=SCREENSHOTS / "menu-phone.png", full_page=True)
    if page.evaluate(OVERFLOW) > 0:
        problems.append("the phone's Practice menu runs off the screen")

    page.goto(f"{live_server.url}/no/such/page/")
    problems += check(page, "not-found")

    officer_page = open_page()
    log_in(officer_page, live_server.url, officer)
    officer_page.goto(home + "/compliance/audit/")
    problems += check(officer_page, "audit")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_gateway_page_with_twilios_settings_fits_a_phone_and_a_laptop(
        live_server, open_page, twilio_numbers):
    """The check of what Twilio holds: four long URLs, one of them differing."""
    from tests.gateways.test_settings_pages import set_up, sign_twilio_baa
    from tests.gateways.twilio_numbers import VOICE, number

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    set_up(practice, test_mode=False)
    # A transactional test's database is flushed before it: the vendor list (a data
    # migration's rows) is put back.
    Vendor.objects.get_or_create(slug="twilio", defaults={"name": "Twilio"})
    sign_twilio_baa(practice)
    api, _ = twilio_numbers
    api.held = number(voice_url=VOICE)
    page = open_page()
    log_in(page, live_server.url, admin)
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/p/{practice.slug}/gateway/")
        page.get_by_role("button", name="Check at Twilio").click()
        page.wait_for_load_state()
        assert page.locator("table.urls").is_visible()
        page.screenshot(path=SCREENSHOTS / f"gateway-{width_name}.png", full_page=True)
        if (extra := page.evaluate(OVERFLOW)) > 0:
            problems.append(f"the gateway page at {width}px runs {extra}px off the screen")
        if (spill := page.evaluate(SPILL)) > 0:
            problems.append(f"the gateway page at {width}px spills {spill}px out of its column")
    assert problems == []


def seed_staff(practice):
    """A practice's staff with long names, and a nurse's methods with a long address."""
    nurse = make_member(practice, Role.NURSE, "nurse", email="nurse@riverside.example")
    User.objects.filter(pk=nurse.pk).update(first_name="Maria-Fernanda",
                                            last_name="Okafor-Featherstonehaugh",
                                            last_login=timezone.now())
    for role in (Role.PROVIDER, Role.FRONT_DESK, Role.COMPLIANCE_OFFICER):
        make_member(practice, role, f"{role}-with-a-rather-long-username")
    mobile = contacts.add(nurse, contacts.Kind.SMS, "+16175550199")
    ContactMethod.objects.filter(pk=mobile.pk).update(verified_at=timezone.now())
    contacts.add(nurse, contacts.Kind.VOICE, "+442079460000")
    contacts.add(nurse, contacts.Kind.EMAIL,
                 "maria-fernanda.okafor-featherstonehaugh@riverside-family-medicine.example")
    contacts.set_rule(nurse, contacts.methods(nurse)[0], 0)
    contacts.set_rule(nurse, mobile, 0)
    contacts.set_rule(nurse, mobile, 180)
    return nurse


@pytest.mark.django_db(transaction=True)
def test_the_staff_pages_and_contact_methods_fit_a_phone_and_a_laptop(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    nurse = seed_staff(practice)
    home = f"{live_server.url}/p/{practice.slug}"
    problems = []

    page = open_page()
    log_in(page, live_server.url, admin)
    for name, path in [("staff", "/staff/"), ("staff-member", f"/staff/{nurse.pk}/"),
                       ("staff-add", "/staff/new/")]:
        page.goto(home + path)
        problems += check(page, name)

    nurse_page = open_page()
    log_in(nurse_page, live_server.url, nurse)
    nurse_page.goto(home + "/oncall/contacts/")
    problems += check(nurse_page, "contacts")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_practice_home_and_adopting_a_default_protocol_fit_a_phone_and_a_laptop(
        live_server, open_page):
    from clinicline.triage import service as triage
    from tests.triage.test_adopt_default import older_default

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    triage.import_protocol(practice, older_default()[0])  # a practice's own, older version
    home = f"{live_server.url}/p/{practice.slug}"

    page = open_page()
    log_in(page, live_server.url, admin)
    problems = []
    for name, path in [("practice-home", "/"), ("protocol", "/triage/"),
                       ("protocol-default", "/triage/default/")]:
        page.goto(home + path)
        problems += check(page, name)
    assert page.get_by_role("button", name="Adopt the shipped default as version 2").is_visible()
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_consoles_advice_fits_a_phone_and_a_laptop(live_server, open_page):
    """A Spanish-speaking caller whose toddler swallowed pills: the console shows Poison
    Control's line in the practice's Spanish words with the English beside them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    agent = make_member(practice, Role.AGENT, "agent")
    page = open_page()
    log_in(page, live_server.url, agent)
    page.goto(f"{live_server.url}/p/{practice.slug}/console/?type=clinical&lang=es")
    page.fill("#id_patient_name", "Walter Okafor")
    page.fill("#id_date_of_birth", "1958-04-02")
    page.fill("#id_callback_number", "617-555-0142")
    page.fill("#id_concern", "My 2 year old swallowed some of grandma's pills, he seems fine")
    page.keyboard.press("Tab")  # to the first triage question: N on each, as an agent does
    while page.evaluate("!!document.activeElement.closest('fieldset[data-question]')"):
        page.keyboard.press("n")
    page.get_by_role("button", name="Check priority").click()
    expect(page.locator(".decision .advice")).to_contain_text("1-800-222-1222")
    expect(page.locator(".decision .advice-english")).to_contain_text("Poison Control")
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.locator(".decision").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / f"console-advice-{width_name}-screen.png")
        if (extra := page.evaluate(OVERFLOW)) > 0:
            problems.append(f"the console's advice at {width}px runs {extra}px off the screen")
    assert problems == []
