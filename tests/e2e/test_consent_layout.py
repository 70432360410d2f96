"""The patient page's consent section and the registration questions, photographed on a
phone and a laptop (var/screenshots/consent-*), failing if anything runs off the screen;
and a decision recorded through the real page shows in the grid and the history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.patients import consent, service
from clinicline.patients.models import Channel, ConsentEntry, Purpose, Source
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check


def seed_ledger(patient, front_desk) -> None:
    practice = patient.practice
    now = timezone.now()
    service.add_contact(patient, "phone", "+16175550199", label="work")
    for days, channel, purpose in [(40, Channel.SMS, Purpose.APPOINTMENT_REMINDERS),
                                   (40, Channel.EMAIL, Purpose.BILLING),
                                   (40, Channel.PORTAL, Purpose.RESULTS_READY)]:
        consent.record(patient, channel=channel, purpose=purpose, granted=True,
                       source=Source.REGISTRATION, by=front_desk,
                       at=now - dt.timedelta(days=days), evidence="asked at registration")
    consent.record(patient, channel=Channel.VOICEMAIL, purpose=Purpose.RESULTS_READY,
                   granted=True, detail_allowed=True, source=Source.VERBAL, by=front_desk,
                   at=now - dt.timedelta(days=10),
                   evidence="Asked us to leave lab results on the home voicemail even after "
                            "being told voicemail is not secure; signed form kept in the "
                            "scanned-documents folder (ref SCAN-2026-11-000123-CONSENT).")
    consent.opt_out_by_sms(practice, "+16175550142", at=now - dt.timedelta(days=2),
                           evidence="STOP")
    consent.set_preferences(patient, actor=front_desk, preferred_channel=Channel.EMAIL,
                            do_not_leave_voicemail=False, window_start=dt.time(9),
                            window_end=dt.time(19, 30), time_zone="America/Chicago")


@pytest.mark.django_db(transaction=True)
def test_the_consent_section_fits_a_phone_and_a_laptop(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    front_desk = make_member(practice, Role.FRONT_DESK, "front-desk")
    patient = make_patient(practice, "Walter", "Okafor-Featherstonehaugh")
    seed_ledger(patient, front_desk)
    home = f"{live_server.url}/p/{practice.slug}"
    page = open_page()
    log_in(page, live_server.url, front_desk)

    page.goto(f"{home}/patients/{patient.pk}/")
    problems = check(page, "consent-patient")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.select_option("#id_channel", "voice")
    page.select_option("#id_purpose", "care-team")
    page.check("input[name=decision][value=revoked]")
    page.fill("#id_evidence", "Said on the phone: no calls about care-team matters.")
    page.click("#record-consent button[type=submit]")
    page.wait_for_load_state()
    assert "Consent recorded." in page.content()
    assert ConsentEntry.objects.filter(channel="voice", granted=False,
                                       recorded_by=front_desk).exists()
    assert "no calls about care-team matters" in page.locator("table.consent-history").inner_text()

    page.goto(f"{home}/patients/new/")
    problems += check(page, "consent-registration")
    assert problems == []
