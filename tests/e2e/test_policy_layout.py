"""The sending policy page in a real browser: the practice admin narrows the hours and is
told why a weekly limit of 4 is refused; a nurse reads the policy, and the patient page's
consent history shows her "recorded" where the front desk reads the evidence note. Every
page is photographed at 390 and 1366 px (var/screenshots/policy-*) and fails if anything
runs off the screen."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline.accounts.roles import Role
from clinicline.outreach.decision_models import SendingPolicy
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_consent_layout import seed_ledger
from tests.e2e.test_layout import SCREENSHOTS, check


@pytest.mark.django_db(transaction=True)
def test_the_admin_changes_the_policy_and_a_nurse_reads_it(live_server, open_page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    nurse = make_member(practice, Role.NURSE, "nurse")
    front_desk = make_member(practice, Role.FRONT_DESK, "front-desk")
    patient = make_patient(practice, "Walter", "Okafor-Featherstonehaugh")
    seed_ledger(patient, front_desk)
    policy_url = f"{live_server.url}/p/{practice.slug}/outreach/policy/"

    page = open_page()
    log_in(page, live_server.url, admin)
    page.goto(policy_url)
    problems = check(page, "policy-admin")
    page.fill("#id_per_week", "4")
    page.click("#policy-form button[type=submit]")
    page.wait_for_selector("text=Nothing was saved")
    assert "healthcare exemption covers at most 3 a week" in page.content()
    problems += check(page, "policy-refused")  # reloads: the refused form, as posted
    page.goto(policy_url)
    page.fill("#id_per_week", "2")
    page.fill("#id_window_start", "09:00")
    page.fill("#id_window_end", "17:30")
    page.click("#policy-form button[type=submit]")
    page.wait_for_selector("text=Sending policy saved")
    saved = SendingPolicy.objects.get(practice=practice)
    assert (saved.per_week, saved.window_start, saved.window_end) == (
        2, dt.time(9), dt.time(17, 30))

    reader = open_page()
    log_in(reader, live_server.url, nurse)
    reader.goto(policy_url)
    assert "09:00 to 17:30" in reader.locator("#policy-now").inner_text()
    problems += check(reader, "policy-nurse")
    reader.goto(f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/")
    history = reader.locator("table.consent-history").inner_text()
    assert "recorded" in history and "scanned-documents folder" not in history
    problems += check(reader, "policy-consent-nurse")
    assert problems == []
