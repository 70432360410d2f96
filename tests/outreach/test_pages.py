"""The templates page as the practice admin and the staff use it: read, draft, approve."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.outreach import service
from clinicline.outreach.kinds import PURPOSES, Channel, Language, Purpose
from clinicline.outreach.models import TemplateVersion
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

VOICEMAIL = (Purpose.APPOINTMENT_REMINDERS, Channel.VOICEMAIL, Language.EN)
REMINDER_SMS = (Purpose.APPOINTMENT_REMINDERS, Channel.SMS, Language.EN)
OWN_WORDS = ("Hello, this is Dr. Osei's team at {practice} about {reason}. "
             "Please ring us on {callback_number}. Thank you.")


def url(practice, name: str = "template", kind=VOICEMAIL, **extra) -> str:
    purpose, channel, language = kind
    return reverse(f"outreach:{name}", kwargs={
        "practice": practice.slug, "purpose": purpose, "channel": channel,
        "language": language, **extra})


def listing(practice) -> str:
    return reverse("outreach:templates", kwargs={"practice": practice.slug})


def test_the_list_shows_every_kind_with_its_preview_and_text_size(practice, practice_admin,
                                                                  dr_osei) -> None:
    page = signed_in(practice_admin).get(listing(practice))
    assert page.status_code == 200
    html = page.content.decode()
    for purpose in PURPOSES:
        assert purpose.label.capitalize() in html
    # The voicemail preview, with the practice's own provider and the number spoken.
    assert ("Hello, this is a message from Dr. Osei&#x27;s office regarding your "
            "appointment. Please call us back at 6 1 7, 5 5 5, 0 1 0 0. Thank you.") in html
    assert "GSM-7, 1 segment" in html
    assert "shipped default" in html
    assert reverse("intake:scripts-binder-pdf", kwargs={"practice": practice.slug}) in html


def test_staff_read_but_do_not_edit_or_approve(practice, nurse, practice_admin) -> None:
    client = signed_in(nurse)
    assert client.get(listing(practice)).status_code == 200
    page = client.get(url(practice))
    assert page.status_code == 200 and b"Write new words" not in page.content
    assert client.post(url(practice, "template-edit"),
                       {"body": OWN_WORDS}).status_code == 404
    draft = service.save_draft(practice, VOICEMAIL, OWN_WORDS, by=practice_admin)
    assert client.post(url(practice, "template-approve",
                           number=draft.number)).status_code == 404
    draft.refresh_from_db()
    assert not draft.approved


def test_a_draft_is_not_live_until_the_admin_approves_it(practice, practice_admin,
                                                         dr_osei) -> None:
    client = signed_in(practice_admin)
    saved = client.post(url(practice, "template-edit"), {"body": OWN_WORDS})
    assert saved.status_code == 302
    draft = TemplateVersion.objects.get()
    assert (draft.number, draft.created_by, draft.approved) == (1, practice_admin, False)
    assert service.live(practice, VOICEMAIL).version is None  # the default is still sent
    page = client.get(url(practice)).content.decode()
    assert "Draft version 1: not sent yet" in page
    assert "Approve version 1 and make it live" in page

    approved = client.post(url(practice, "template-approve", number=1))
    assert approved.status_code == 302
    live = service.live(practice, VOICEMAIL)
    assert live.body == OWN_WORDS and live.approved_by == practice_admin
    events = list(AuditEvent.objects.filter(practice_id=practice.pk,
                                            action__startswith="outreach.").order_by("seq"))
    assert [(e.action, e.actor_id, e.outcome) for e in events] == [
        (Action.TEMPLATE_DRAFT, practice_admin.pk, Outcome.SUCCESS),
        (Action.TEMPLATE_APPROVE, practice_admin.pk, Outcome.SUCCESS)]
    assert events[1].object_id == str(draft.pk)


def test_an_unknown_slot_is_saved_as_a_draft_and_refused_at_approval(practice,
                                                                     practice_admin) -> None:
    client = signed_in(practice_admin)
    client.post(url(practice, "template-edit"),
                {"body": "Hi {patient_name}, call {callback_number}."})
    page = client.get(url(practice)).content.decode()
    assert "{patient_name} at line 1, column 4 is not a slot" in page
    assert "Approve version 1" not in page
    refused = client.post(url(practice, "template-approve", number=1))
    assert refused.status_code == 400
    assert "Not approved:" in refused.content.decode()
    assert service.live(practice, VOICEMAIL).version is None
    assert AuditEvent.objects.filter(action=Action.TEMPLATE_APPROVE,
                                     outcome=Outcome.FAILURE).count() == 1


def test_an_exempt_text_that_is_too_long_is_refused(practice, practice_admin) -> None:
    client = signed_in(practice_admin)
    long_words = "{practice}: " + "please remember your visit " * 5 + (
        "{appointment_at}. Call {callback_number}. Reply STOP to opt out.")
    client.post(url(practice, "template-edit", kind=REMINDER_SMS),
                {"body": long_words, "exempt": "on"})
    refused = client.post(url(practice, "template-approve", kind=REMINDER_SMS, number=1))
    assert refused.status_code == 400
    assert "must fit 160 characters with the longest names" in refused.content.decode()


def test_only_the_newest_draft_can_be_approved(practice, practice_admin) -> None:
    first = service.save_draft(practice, VOICEMAIL, OWN_WORDS, by=practice_admin)
    service.save_draft(practice, VOICEMAIL, OWN_WORDS.replace("ring", "call"),
                       by=practice_admin)
    with pytest.raises(service.Refused, match="Only the newest draft"):
        service.approve(first, by=practice_admin)


@pytest.mark.parametrize("body", ["", "   ", "x" * 1601, "Call \x00 us", "Bell\x07"])
def test_bad_words_get_a_400_and_save_nothing(practice, practice_admin, body) -> None:
    answer = signed_in(practice_admin).post(url(practice, "template-edit"), {"body": body})
    assert answer.status_code == 400
    assert b"Nothing was saved" in answer.content
    assert not TemplateVersion.objects.exists()


def test_an_unknown_kind_is_a_404(practice, practice_admin) -> None:
    client = signed_in(practice_admin)
    assert client.get(url(practice, kind=("marketing", "sms", "en"))).status_code == 404
    assert client.get(url(practice, kind=("billing", "fax", "en"))).status_code == 404
    assert client.get(url(practice, kind=("billing", "sms", "fr"))).status_code == 404


def test_another_practice_s_admin_cannot_approve_this_practice_s_draft(
        practice, practice_admin, other_practice, other_admin) -> None:
    draft = service.save_draft(practice, VOICEMAIL, OWN_WORDS, by=practice_admin)
    client = signed_in(other_admin)
    assert client.post(url(practice, "template-approve", number=draft.number)
                       ).status_code == 404
    assert client.post(url(other_practice, "template-approve", number=draft.number)
                       ).status_code == 404
    draft.refresh_from_db()
    assert not draft.approved


def test_a_practice_that_keeps_its_name_out_sends_the_provider_s_office(
        practice, practice_admin, dr_osei) -> None:
    practice.name = "Riverside Fertility"
    practice.name_in_messages = False
    practice.save()
    html = signed_in(practice_admin).get(listing(practice)).content.decode()
    assert "keeps its name out of messages" in html
    assert "Dr. Osei&#x27;s office: appt Thu Dec 10 at 9:30 AM" in html
    assert "Riverside Fertility:" not in html
