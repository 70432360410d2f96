"""The printable binder as a PDF: made from the practice's live words, readable back, and
audited only once it has been made."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clinicline.audit.models import Action, AuditEvent
from clinicline.intake import binder_pdf
from clinicline.intake import service as intake
from clinicline.intake.checks import check_binder_fonts, font_errors
from clinicline.outreach import service as outreach
from clinicline.outreach.kinds import Channel, Language, Purpose
from clinicline.practices.models import Provider
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

OWN_VOICEMAIL = ("Hello, this is the Riverside desk for {provider} about {reason}. "
                 "Please call us back at {callback_number}. Thank you.")


def binder_url(practice) -> str:
    return reverse("intake:scripts-binder-pdf", kwargs={"practice": practice.slug})


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_binder_holds_the_practice_s_live_words(practice, practice_admin, agent) -> None:
    Provider.objects.create(practice=practice, display_name="Dr. Osei")
    kind = (Purpose.RESULTS_READY, Channel.VOICEMAIL, Language.EN)
    outreach.approve(outreach.save_draft(practice, kind, OWN_VOICEMAIL, by=practice_admin),
                     by=practice_admin)
    scripts = intake.script_set_for(practice).document
    scripts["scripts"]["return_call_refusal"]["en"] = (
        "I'm sorry, but federal law prevents me from providing that information.")
    intake.import_scripts(practice, intake.scripts.dump(scripts), by=practice_admin)

    answer = signed_in(agent).get(binder_url(practice))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    pdf = answer.content
    assert pdf.startswith(b"%PDF-")
    words = flat(text_of(pdf))
    assert "Riverside Family Medicine: script binder" in words
    # The practice's own approved voicemail, numbers written for a person to read.
    assert ("Hello, this is the Riverside desk for Dr. Osei about your results. "
            "Please call us back at 617-555-0100. Thank you.") in words
    # The shipped Spanish voicemail, accents and all (the font is embedded).
    assert "Por favor, llámenos al 617-555-0100. Gracias." in words
    assert "I'm sorry, but federal law prevents me from providing that information." in words
    assert "Lo siento, pero la ley federal me impide darle esa información." in words
    assert "Chest pain or pressure" in words
    assert "Reply STOP to opt out" in words

    events = AuditEvent.objects.filter(action=Action.BINDER_PRINT)
    assert [(e.actor_id, e.practice_id) for e in events] == [(agent.pk, practice.pk)]


def test_a_binder_that_could_not_be_made_is_not_recorded_as_handed_out(practice,
                                                                        agent) -> None:
    client = signed_in(agent)
    with mock.patch("fpdf.FPDF.output", autospec=True, side_effect=OSError("disk full")), \
            pytest.raises(OSError):
        client.get(binder_url(practice))
    assert not AuditEvent.objects.filter(action=Action.BINDER_PRINT).exists()


def test_the_binder_is_for_members_who_take_calls_and_read_scripts(practice, compliance_officer,
                                                                   other_admin) -> None:
    assert signed_in(compliance_officer).get(binder_url(practice)).status_code == 404
    assert signed_in(other_admin).get(binder_url(practice)).status_code == 404


def test_the_scripts_page_links_the_pdf(practice, agent) -> None:
    page = signed_in(agent).get(reverse("intake:scripts", kwargs={"practice": practice.slug}))
    assert binder_url(practice).encode() in page.content


def test_a_missing_font_is_a_system_check_error(tmp_path) -> None:
    assert check_binder_fonts() == []  # this machine has it, as make deps installs it
    errors = font_errors([*binder_pdf.FONT_FILES.values(), tmp_path / "DejaVuSans.ttf"])
    assert [e.id for e in errors] == ["intake.E001"]
    assert "fonts-dejavu-core" in errors[0].hint
