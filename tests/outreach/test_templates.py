"""Typed slots, the checks approval runs, and rendering: what a patient would receive."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.outreach import defaults
from clinicline.outreach.kinds import Channel, Language, Purpose, Reason
from clinicline.outreach.templates import (
    RESULTS_LINK_SLOT,
    MissingValue,
    SecureLink,
    Values,
    check,
    examples,
    render,
    rendered,
    spoken_number,
    when,
    written_number,
)
from clinicline.practices.models import Provider
from tests.conftest import make_practice

pytestmark = pytest.mark.django_db

SMS, VM, VOICE = Channel.SMS, Channel.VOICEMAIL, Channel.VOICE


@pytest.fixture
def fertility(db):
    """A practice whose name says what its patients are treated for."""
    clinic = make_practice("hope", "Hope Fertility Center")
    clinic.name_in_messages = False
    clinic.save()
    Provider.objects.create(practice=clinic, display_name="Dr. Lindqvist")
    return clinic


def reminder_check(practice, body: str, **kw):
    return check(body, practice=practice, purpose=Purpose.APPOINTMENT_REMINDERS, channel=SMS,
                 language=Language.EN, **kw)


def test_the_default_voicemail_is_the_guidance_word_for_word(practice, dr_osei) -> None:
    body = defaults.shipped(Purpose.APPOINTMENT_REMINDERS, VM, Language.EN).body
    values = Values(provider=dr_osei, reason=Reason.APPOINTMENT)
    assert render(body, practice=practice, channel=VM, language="en", values=values,
                  speech=False) == (
        "Hello, this is a message from Dr. Osei's office regarding your appointment. "
        "Please call us back at 617-555-0100. Thank you.")
    # The machine that leaves it speaks the number digit by digit.
    assert render(body, practice=practice, channel=VM, language="en", values=values) == (
        "Hello, this is a message from Dr. Osei's office regarding your appointment. "
        "Please call us back at 6 1 7, 5 5 5, 0 1 0 0. Thank you.")


def test_the_spanish_voicemail_too(practice, dr_osei) -> None:
    body = defaults.shipped(Purpose.RESULTS_READY, VM, Language.ES).body
    said = render(body, practice=practice, channel=VM, language="es", speech=False,
                  values=Values(provider=dr_osei, reason=Reason.RESULTS))
    assert said == ("Hola, este es un mensaje del consultorio de Dr. Osei sobre sus "
                    "resultados. Por favor, llámenos al 617-555-0100. Gracias.")


@pytest.mark.parametrize("kind", list(defaults.SHIPPED))
def test_every_shipped_default_passes_its_own_checks(practice, fertility, kind) -> None:
    purpose, channel, language = kind
    for clinic in (practice, fertility):
        shipped = defaults.shipped(*kind, named=clinic.name_in_messages)
        report = check(shipped.body, practice=clinic, purpose=purpose, channel=channel,
                       language=language, exempt=shipped.exempt)
        assert report.ok, (clinic.slug, report.problems)
        assert "Fertility" not in report.longest


def test_an_unknown_slot_is_refused_with_its_name_and_place(practice) -> None:
    report = reminder_check(practice, "Hi {patient_name},\nsee you {appointment_at}.")
    assert not report.ok
    assert report.problems[0].startswith("{patient_name} at line 1, column 4 is not a slot")


@pytest.mark.parametrize(("body", "where"), [
    ("Call {callback_number", "“{” at line 1, column 6"),
    ("Call us} soon", "“}” at line 1, column 8"),
    ("Call {{callback_number}}", "“{” at line 1, column 6"),
    ("Call us\nat {callback_number}}", "“}” at line 2, column 21"),
])
def test_a_stray_brace_is_refused_where_it_is(practice, body: str, where: str) -> None:
    report = reminder_check(practice, body)
    assert any(where in p for p in report.problems), report.problems


def test_the_appointment_time_is_for_reminders_only(practice) -> None:
    report = check("{practice}: your results from {appointment_at}", practice=practice,
                   purpose=Purpose.RESULTS_READY, channel=SMS, language="en")
    assert report.problems == ["{appointment_at} is for appointment reminders only."]


def test_a_link_cannot_be_spoken(practice) -> None:
    report = check("Open {secure_link}", practice=practice, purpose=Purpose.CARE_TEAM,
                   channel=VM, language="en")
    assert report.problems == ["{secure_link} cannot be spoken: use it in texts and email."]


def test_a_results_text_refuses_a_link_slot_the_link_follows_the_words_by_itself(
        practice) -> None:
    # Only a patient who agreed to the portal for results has a link to put there.
    report = check("{practice}: your results are ready: {secure_link}", practice=practice,
                   purpose=Purpose.RESULTS_READY, channel=SMS, language="en")
    assert report.problems == [RESULTS_LINK_SLOT]
    assert "refused in a results-ready text" in RESULTS_LINK_SLOT
    care_team = check("{practice}: a message is waiting at {secure_link}", practice=practice,
                      purpose=Purpose.CARE_TEAM, channel=SMS, language="en")
    assert care_team.ok, care_team.problems


def test_a_practice_that_keeps_its_name_out_refuses_it_as_a_slot_and_in_words(
        fertility) -> None:
    assert "{practice} is refused" in reminder_check(fertility, "{practice}: hi").problems[0]
    words = reminder_check(fertility, "Hope Fertility Center: call {callback_number}")
    assert words.problems == ["The words name the practice (“Hope Fertility Center”), which "
                              "it keeps out of messages."]


EXEMPT_OK = "{practice}: appt {appointment_at}. Call {callback_number}. Reply STOP to opt out."


def test_an_exempt_reminder_that_fits_is_approved(practice) -> None:
    report = reminder_check(practice, EXEMPT_OK, exempt=True)
    assert report.ok, report.problems
    assert report.shape is not None and report.shape.units <= 160


def test_an_exempt_reminder_is_judged_with_the_longest_names(practice) -> None:
    # Fits with "Dr. Osei"; not with the longest plausible provider name.
    body = ("{practice}: appt with {provider} " + "x" * 60
            + " {callback_number}. Reply STOP to opt out.")
    report = reminder_check(practice, body, exempt=True)
    assert any("must fit 160 characters with the longest names" in p for p in report.problems)
    assert len(report.example) <= 160 < len(report.longest)


@pytest.mark.parametrize(("body", "problem"), [
    ("{practice}: appt {appointment_at}. Call {callback_number}.",
     "An exempt text must say “Reply STOP to opt out”."),
    ("Appt {appointment_at}. Call {callback_number}. Reply STOP to opt out.",
     "An exempt text must name the practice ({practice})."),
    ("{practice}: appt {appointment_at}. Reply STOP to opt out.",
     "An exempt text must give the callback number ({callback_number})."),
    ("{practice}: appt {appointment_at} — call {callback_number}. Reply STOP to opt out.",
     "An exempt text must be plain GSM-7: “—” makes it UCS-2."),
])
def test_an_exempt_reminder_missing_a_condition_is_refused(practice, body, problem) -> None:
    assert problem in reminder_check(practice, body, exempt=True).problems


def test_without_its_name_an_exempt_text_names_the_provider(fertility) -> None:
    report = reminder_check(fertility, EXEMPT_OK.replace("{practice}", "{provider}'s office"),
                            exempt=True)
    assert report.ok, report.problems
    refused = reminder_check(fertility, "Appt {appointment_at}. Call {callback_number}. "
                             "Reply STOP to opt out.", exempt=True)
    assert "An exempt text must name the provider ({provider})." in refused.problems


def test_billing_is_never_exempt(practice) -> None:
    report = check("{practice}: call {callback_number} about {reason}. Reply STOP to opt out.",
                   practice=practice, purpose=Purpose.BILLING, channel=SMS, language="en",
                   exempt=True)
    assert any("Billing texts cannot use the healthcare exemption" in p
               for p in report.problems)


def test_the_editor_sees_the_encoding_and_the_plain_replacement(practice) -> None:
    report = reminder_check(practice, "{practice}: it’s time — call {callback_number}")
    assert report.ok
    assert report.shape is not None and str(report.shape.encoding) == "UCS-2"
    assert "“’”, “—” force UCS-2 (70 characters a segment instead of 160)." in report.notes
    assert any(n.startswith("With plain characters it would be GSM-7: "
                            "{practice}: it's time - call {callback_number}")
               for n in report.notes)


def test_a_provider_from_another_practice_cannot_fill_the_slot(practice, other_practice) -> None:
    stranger = Provider.objects.create(practice=other_practice, display_name="Dr. Lake")
    with pytest.raises(MissingValue):
        render("{provider}", practice=practice, channel=SMS, language="en",
               values=Values(provider=stranger))


def test_a_missing_value_is_a_defect_not_a_blank(practice) -> None:
    with pytest.raises(MissingValue):
        render("at {appointment_at}", practice=practice, channel=SMS, language="en",
               values=Values())


def test_times_are_in_the_practice_zone(practice) -> None:
    at = dt.datetime(2026, 12, 10, 14, 30, tzinfo=dt.UTC)  # 9:30 in Boston
    assert when(at, practice, "en") == "Thu Dec 10 at 9:30 AM"
    assert when(at, practice, "en", spoken=True) == "Thursday, December 10 at 9:30 AM"
    assert when(at, practice, "es") == "jue 10 dic a las 9:30 de la mañana"
    assert when(at + dt.timedelta(hours=10), practice, "es") == "jue 10 dic a las 7:30 de la noche"


def test_numbers_written_and_spoken() -> None:
    assert written_number("+16175550100") == "617-555-0100"
    assert spoken_number("+16175550100") == "6 1 7, 5 5 5, 0 1 0 0"
    assert spoken_number("+442079460958") == "0 2 0, 7 9 4 6, 0 9 5 8"


def test_a_secure_link_is_the_site_s_own(practice, settings) -> None:
    settings.SITE_URL = "https://desk.riverside.example"
    said = render("Open {secure_link}", practice=practice, channel=SMS, language="en",
                  values=Values(secure_link=SecureLink("k7Qx2Lm9")))
    assert said == "Open https://desk.riverside.example/s/k7Qx2Lm9"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.sampled_from(
    [*"{}abc _\n’€", "{provider}", "{reason}", "{patient}", "{appointment_at}",
     "{secure_link}", "{practice}", "{callback_number}"]), max_size=14).map("".join),
       channel=st.sampled_from(list(Channel)), exempt=st.booleans())
def test_any_words_get_a_report_never_an_exception(practice, body, channel, exempt) -> None:
    report = check(body, practice=practice, purpose=Purpose.APPOINTMENT_REMINDERS, channel=channel,
                   language="en", exempt=exempt)
    if report.ok:  # every brace was a slot, and every slot was filled
        assert "{" not in report.example + report.longest
        assert "}" not in report.example + report.longest


def test_a_number_the_library_does_not_know_is_written_as_stored() -> None:
    assert written_number("+9991234567") == "+9991234567"


def test_the_shipped_reminder_is_judged_again_when_what_its_checks_read_changes(practice,
                                                                                fertility):
    """``service.live`` remembers whether the shipped reminder qualifies for the exemption,
    but never past a change to what its checks read: the practice's name, its roster (a
    practice that keeps its name out names the provider instead)."""
    from clinicline.outreach import service

    kind = (Purpose.APPOINTMENT_REMINDERS, SMS, Language.EN)
    assert service.live(practice, kind).exempt
    name, practice.name = practice.name, f"{practice.name} and Community Health of Boston"
    practice.save()
    assert not service.live(practice, kind).exempt  # too long to fit 160 characters
    practice.name = name
    practice.save()
    assert service.live(practice, kind).exempt
    assert service.live(fertility, kind).exempt
    Provider.objects.create(practice=fertility, display_name="Dr. Maximiliana "
                            "Featherstonehaugh-Worthington of the Reproductive Medicine Unit")
    assert not service.live(fertility, kind).exempt


@pytest.mark.parametrize("kind", list(defaults.SHIPPED))
def test_every_shipped_rendering_passes_the_outboxs_last_look(practice, kind):
    """What the sending decision passes, the outbox's own last look must pass too (it once
    read the Spanish reminder's time, "mié 2 dic a las 2:30", as a street address)."""
    from clinicline.outbox.service import screened

    purpose, channel, language = kind
    Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    values = examples(practice, language, longest=False, purpose=purpose)
    text, _ = rendered(defaults.shipped(*kind, named=True).body, practice=practice,
                       channel=channel, language=language, values=values)
    assert screened(practice, text) == []
