"""The practice's scripts: a versioned document in English and Spanish, checked at save
(closed slots, the emergency line's 911, every language), spoken by the IVR and shown by
the console in the version in force, and recorded on every message."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import strip_tags

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message
from clinicline.intake import ivr, scripts
from clinicline.intake.models import ScriptSet
from clinicline.intake.service import import_scripts, scripts_for
from tests.conftest import make_member, signed_in
from tests.intake.test_console import CONSOLE, call_data

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
AFTER_HOURS = dt.datetime(2026, 12, 5, 2, 10, tzinfo=NY)
PAGE = "/p/riverside/intake/scripts/"
DEFAULT = scripts.default_source()
GREETING = "Thank you for calling {practice}, this is the answering service."
NEW_GREETING = "Good evening, {practice} answering service, how can I help?"


def text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def refused(source: str) -> list[str]:
    with pytest.raises(scripts.ScriptError) as caught:
        scripts.parse(source)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def clock():
    with time_machine.travel(AFTER_HOURS, tick=True) as traveller:
        yield traveller


@pytest.fixture
def admin(practice):
    return make_member(practice, Role.PRACTICE_ADMIN, "scripts-admin")


# --- the document --------------------------------------------------------------------------

def test_the_default_voicemail_greeting_says_voicemail_is_not_secure_and_asks_for_little():
    words = scripts.Scripts(scripts.default_document(), 1)
    greeting = words.text("voicemail_greeting", call_type="Billing question")
    assert "Voicemail is not a secure way to share health information" in greeting
    for asked in ("your name", "date of birth or account number",
                  "a callback number or email address"):
        assert asked in greeting
    assert "only" in greeting
    # Nothing that invites the caller to describe their condition.
    for invites in ("describe", "problem", "symptom", "what is happening", "condition"):
        assert invites not in greeting.lower()
    spanish = words.in_language("es").text("voicemail_greeting", call_type="facturas")
    assert "no es un medio seguro" in spanish and "fecha de nacimiento" in spanish


def test_the_default_urgent_prompt_asks_for_a_number_and_a_few_words_then_911():
    prompt = scripts.Scripts(scripts.default_document(), 1).text("urgent_prompt")
    assert "callback number" in prompt and "a few words about what is happening" in prompt
    assert prompt.index("what is happening") < prompt.index("911")


@pytest.mark.parametrize("language,line", [
    ("en", '    en: "If this is a medical emergency, please hang up and dial 911."'),
    ("es", '    es: "Si se trata de una emergencia médica, cuelgue y marque el 911."')])
def test_an_emergency_line_without_911_is_refused_with_its_line(language, line):
    assert line in DEFAULT
    number = DEFAULT.splitlines().index(line) + 1
    problems = refused(DEFAULT.replace(line, line.split(":")[0] + ': "Call us any time."'))
    assert problems == [f"line {number}: emergency ({language}): the emergency line must "
                        "still tell callers to dial 911; you may reword it, not remove it"]


@pytest.mark.parametrize("written", ["dial 9 1 1", "dial 9-1-1", "call 911 now"])
def test_the_emergency_line_may_be_reworded(written):
    source = DEFAULT.replace("please hang up and dial 911.\"\n    es",
                             f"{written}.\"\n    es", 1)
    assert scripts.parse(source)["scripts"]["emergency"]["en"].endswith(f"{written}.")


@pytest.mark.parametrize("slot,message", [
    ("{patient_name}", "unknown slot {patient_name}"),
    ("{callback_minutes}", "{callback_minutes} cannot be filled here"),
    ("{practice.__class__}", "is not a slot"),
    ("{0}", "is not a slot"),
    ("{practice!r}", "is not a slot"),
    ("{practice:>99}", "is not a slot")])
def test_a_slot_the_moment_cannot_fill_is_refused_with_its_line(slot, message):
    line = f'    en: "{GREETING}"'
    number = DEFAULT.splitlines().index(line) + 1
    [problem] = refused(DEFAULT.replace(line, line.replace("{practice}", slot)))
    assert problem.startswith(f"line {number}: greeting_after_hours (en): ") and message in problem


def test_every_moment_needs_every_language_and_nothing_unknown():
    line = '    es: "Gracias. Su mensaje fue enviado a la oficina."'
    problems = refused(DEFAULT.replace(line + "\n", "").replace(
        "scripts:\n", "scripts:\n  hold_music:\n    en: la la\n", 1))
    assert any("unknown script 'hold_music'" in p for p in problems)
    assert any("message_sent: the Español words are missing" in p for p in problems)
    assert refused("languages: [en, fr]\nscripts: {}\n")[0].startswith("line 1: unknown language")
    assert "not valid YAML" in refused("scripts: [\n")[0]


def test_the_ivr_says_numbers_digit_by_digit():
    words = scripts.Scripts(scripts.default_document(), 1)
    assert words.spoken("emergency").endswith("dial 9 1 1.")
    assert words.in_language("es").voice == "es-US" and words.voice == "en-US"


# --- versions in force ------------------------------------------------------------------------

def test_the_ivr_and_the_console_say_the_version_in_force(practice, agent, clock):
    assert scripts_for(practice).version == 1
    import_scripts(practice, DEFAULT.replace(GREETING, NEW_GREETING))
    assert scripts_for(practice).version == 2
    spoken = ivr.answer_call(practice, ivr.CallEvent(call_sid="CA" + "1" * 32))
    assert spoken[0].text == NEW_GREETING.format(practice=practice.name)
    page = text(signed_in(agent).get(CONSOLE))
    assert NEW_GREETING.format(practice=practice.name) in page


def test_the_console_shows_the_callers_language_with_english_beside_it(practice, agent,
                                                                       clock):
    client = signed_in(agent)
    page = text(client.get(CONSOLE + "?lang=es&type=billing"))
    assert "Gracias por llamar a Riverside Family Medicine" in page
    assert "In English: Thank you for calling Riverside Family Medicine" in page
    assert "Si se trata de una emergencia médica, cuelgue y marque el 911." in page
    fields = {"patient_name": "Ana Ruiz", "callback_number": "617-555-0142",
              "account_number": "", "question": "Mi factura"}
    saved = client.post(CONSOLE + "save/", {**call_data(practice, "billing", fields),
                                            "lang": "es", "scripts_version": "1"})
    assert saved.status_code == 302, text(saved)
    message = Message.objects.get()
    assert message.language == "es" and message.scripts_version == 1
    read_back = text(client.get(saved.url))
    assert "Le llamaremos al número que termina en 0142." in read_back
    assert "In English:" in read_back and "We will call the number ending in 0142." in read_back


def test_every_message_records_the_scripts_version_it_was_taken_under(practice, agent, clock):
    scripts_for(practice)  # version 1, the shipped default
    import_scripts(practice, DEFAULT.replace(GREETING, NEW_GREETING))
    fields = {"patient_name": "Walter Okafor", "callback_number": "617-555-0142",
              "account_number": "", "question": "A question about my bill"}
    signed_in(agent).post(CONSOLE + "save/", call_data(practice, "billing", fields))
    assert Message.objects.get().scripts_version == 2


# --- the page ------------------------------------------------------------------------------

def form_data(practice, **changes: str) -> dict[str, str]:
    document = scripts_for(practice).document
    data = {f"{name}.{code}": words for name, texts in document["scripts"].items()
            for code, words in texts.items()}
    return {**data, **changes}


def test_the_admin_previews_then_saves_a_new_version_audited(practice, admin):
    client = signed_in(admin)
    data = form_data(practice, **{"greeting_after_hours.en": NEW_GREETING})
    preview = client.post(PAGE + "edit/", {**data, "preview": "1"})
    assert preview.status_code == 200
    assert "Preview: not saved yet" in text(preview)
    assert NEW_GREETING.format(practice=practice.name) in text(preview)
    assert ScriptSet.objects.count() == 1  # a preview saves nothing

    saved = client.post(PAGE + "edit/", {**data, "save": "1"})
    assert saved.status_code == 302
    assert scripts_for(practice).version == 2
    assert scripts_for(practice).text("greeting_after_hours", practice="X") == \
        NEW_GREETING.format(practice="X")
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE, reason="scripts v2")
    assert event.actor_id == admin.pk


def test_a_refused_edit_says_which_field_and_saves_nothing(practice, admin):
    data = form_data(practice, **{"emergency.es": "Llámenos.",
                                  "closing.en": "Bye {patient}."})
    response = signed_in(admin).post(PAGE + "edit/", {**data, "save": "1"})
    assert response.status_code == 400
    body = text(response)
    assert "Nothing was saved" in body and "must still tell callers to dial 911" in body
    assert "unknown slot {patient}" in body
    assert ScriptSet.objects.count() == 1


def test_upload_and_download_round_trip_and_refusals_name_the_line(practice, admin):
    client = signed_in(admin)
    bad = DEFAULT.replace(GREETING, "Hi {caller}.")
    response = client.post(PAGE + "upload/", {
        "file": SimpleUploadedFile("s.yaml", bad.encode(), "application/yaml")})
    assert response.status_code == 400 and re.search(r"line \d+: greeting_after_hours",
                                                     text(response))
    good = DEFAULT.replace(GREETING, NEW_GREETING)
    response = client.post(PAGE + "upload/", {
        "file": SimpleUploadedFile("s.yaml", good.encode(), "application/yaml")})
    assert response.status_code == 302 and scripts_for(practice).version == 2
    exported = client.get(PAGE + "scripts.yaml")
    assert exported["Content-Disposition"] == 'attachment; filename="scripts-v2.yaml"'
    assert exported.content.decode() == good  # comments and all


@pytest.mark.parametrize("role", [Role.AGENT, Role.NURSE, Role.FRONT_DESK])
def test_members_read_and_print_the_scripts_but_only_an_admin_edits(practice, role):
    client = signed_in(make_member(practice, role, f"reader-{role}"))
    page = client.get(PAGE)
    assert page.status_code == 200 and "Edit" not in [h.strip() for h in
                                                      re.findall(r"<h2>(.*?)</h2>",
                                                                 page.content.decode())]
    assert client.get(PAGE + "binder/").status_code == 200
    assert client.post(PAGE + "edit/", form_data(practice)).status_code == 404
    assert ScriptSet.objects.count() == 1


def test_the_binder_holds_both_languages_and_the_call_types(practice, agent):
    body = text(signed_in(agent).get(PAGE + "binder/"))
    assert "answering script binder" in body
    assert "Voicemail is not a secure way" in body and "no es un medio seguro" in body
    assert "Prescription refill" in body and "Medication and dose" in body


def test_the_simulator_speaks_a_script_in_its_language(practice, admin):
    client = signed_in(admin)
    response = client.post("/p/riverside/simulator/speak/",
                           {"text": "Para español, oprima 9.", "lang": "es"})
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and len(response.content) > 8000
    assert client.post("/p/riverside/simulator/speak/", {"text": ""}).status_code == 400


def test_a_file_without_a_newer_moment_uploads_with_the_shipped_words():
    """A file downloaded before a moment existed (the live transfer's lines) still uploads:
    the moment it does not name says the shipped words; a moment named but empty is still
    refused."""
    start = DEFAULT.index("  transfer_hold:\n")
    older = DEFAULT[:start] + DEFAULT[DEFAULT.index("  read_back_paged:\n"):]
    document = scripts.parse(older)
    shipped = scripts.default_document()["scripts"]
    assert document["scripts"]["transfer_hold"] == shipped["transfer_hold"]
    assert document["scripts"]["transfer_failed"] == shipped["transfer_failed"]
    assert any("transfer_hold: missing" in p for p in refused(
        DEFAULT.replace("  transfer_hold:\n", "  transfer_hold: ~\n  old_hold:\n")))


@pytest.mark.parametrize("name,words,kept", [
    ("advice_poison_control", "Please call Poison Control now.", "1-800-222-1222"),
    ("advice_988", "Please call the crisis line now.", "988"),
    ("advice_911", "Please get help now.", "911"),
])
def test_an_advice_line_must_keep_its_number(name, words, kept):
    (problem,) = scripts.text_problems(name, words)
    assert kept in problem
    assert scripts.text_problems(name, f"{words} {kept}") == []


def test_advice_the_guard_would_withhold_from_a_text_is_refused_at_save():
    (problem,) = scripts.text_problems(
        "advice_poison_control", "Call Poison Control at 1-800-222-1222 for the seizure.")
    assert "PHI guard would withhold it" in problem and "condition" in problem
