"""The patient page's "Send a message", on a phone and a laptop (var/screenshots/send-*):
Nurse Ines previews the results-ready text for Walter Okafor-Featherstonehaugh through the
real page and sends it (he agreed to the portal, so the preview says the results link
follows the words); the decision is shown, and nothing runs off the screen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.outreach.decision_models import SendDecision
from clinicline.patients import consent
from clinicline.patients.models import ContactPoint, Source
from clinicline.practices.models import Provider
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import OVERFLOW, SCREENSHOTS, WIDTHS, check


@pytest.mark.django_db(transaction=True)
def test_send_a_message_fits_a_phone_and_a_laptop(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    ines = make_member(practice, Role.NURSE, "ines")
    Provider.objects.create(practice=practice, display_name="Dr. Alexandra Montgomery-Whyte")
    patient = make_patient(practice, "Walter", "Okafor-Featherstonehaugh")
    ContactPoint.objects.filter(patient=patient).update(verified_at=timezone.now())
    for channel in ("sms", "portal"):
        consent.record(patient, channel=channel, purpose="results-ready", granted=True,
                       source=Source.PAPER_FORM, by=ines, evidence="signed form",
                       at=timezone.now() - dt.timedelta(days=3))
    page = open_page()
    log_in(page, live_server.url, ines)
    page.goto(f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/")
    page.click("text=Send a message")
    page.select_option("#id_purpose", "results-ready")
    page.select_option("#id_channel", "sms")
    page.click("button:has-text('Preview')")
    page.wait_for_load_state()
    assert "Your results are ready" in page.content()
    assert "A secure link to the results page follows these words" in page.content()
    problems = check(page, "send-preview")
    page.click("button:has-text('Send')")
    page.wait_for_load_state()
    decision = SendDecision.objects.get()
    assert decision.results_link is not None and decision.secure_token
    shown = page.locator("[role=status]").inner_text()
    assert ("Sent." in shown) if decision.outcome == "sent" else ("Held until" in shown)
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SCREENSHOTS / f"send-decision-{width_name}.png", full_page=True)
        if (extra := page.evaluate(OVERFLOW)) > 0:
            problems.append(f"the decision at {width}px runs {extra}px off the screen")
    assert problems == []
