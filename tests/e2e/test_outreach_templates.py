"""The message templates pages in a real browser: the practice admin writes new voicemail
words, sees the draft's preview, approves it; every page fits a phone and a laptop."""

from __future__ import annotations

import pytest

from clinicline.accounts.roles import Role
from clinicline.outreach import service
from clinicline.outreach.kinds import Channel, Language, Purpose
from clinicline.practices.models import Provider
from tests.conftest import make_member, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check

VOICEMAIL = (Purpose.APPOINTMENT_REMINDERS, Channel.VOICEMAIL, Language.EN)
SMS = (Purpose.APPOINTMENT_REMINDERS, Channel.SMS, Language.EN)


@pytest.mark.django_db(transaction=True)
def test_the_admin_drafts_and_approves_voicemail_words(live_server, open_page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    # A draft the checks refuse, on the reminder text: its problems show on its page.
    service.save_draft(practice, SMS, "Hi {patient_name}, it’s time — {appointment_at}",
                       exempt=True, by=admin)
    home = f"{live_server.url}/p/{practice.slug}/outreach/templates"
    page = open_page()
    log_in(page, live_server.url, admin)
    page.goto(home + "/")
    problems = check(page, "outreach-templates")
    page.goto(f"{home}/appointment-reminders/sms/en/")
    problems += check(page, "outreach-template-refused-draft")
    assert "{patient_name} at line 1, column 4 is not a slot" in page.content()

    page.goto(f"{home}/appointment-reminders/voicemail/en/")
    page.fill("#id_body", "Hello, this is {provider}'s office calling about {reason}. "
                          "Please call us back at {callback_number}. Thank you.")
    page.click("text=Save as a draft")
    page.wait_for_selector("text=Draft version 1: not sent yet")
    assert "Hello, this is Dr. Amara Osei's office calling about your appointment." \
        in page.content()
    problems += check(page, "outreach-template-draft")
    page.click("text=Approve version 1 and make it live")
    page.wait_for_selector("text=Version 1 is approved and live.")
    assert service.live(practice, VOICEMAIL).number == 1
    assert problems == []
