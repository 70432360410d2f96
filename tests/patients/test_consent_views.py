"""The patient page's consent section: staff record what the patient decided, see what may
be sent now, export the history as evidence, and set how the patient likes to be reached."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.models import BreakGlassGrant
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.patients import consent, service
from clinicline.patients.models import (
    Channel,
    ConsentEntry,
    ContactPreference,
    Patient,
    Purpose,
    Source,
)
from tests.conftest import make_member, make_patient, phi_in_audit, signed_in

pytestmark = pytest.mark.django_db

EVIDENCE = "Mr Okafor phoned: no more texts about appointments, call instead."


def url(name, practice, patient, **kw):
    return reverse(f"patients:{name}", kwargs={"practice": practice.slug,
                                               "patient_id": patient.pk, **kw})


def decision(**overrides):
    return {"channel": "sms", "purpose": "appointment-reminders", "decision": "revoked",
            "source": "verbal", "evidence": EVIDENCE, "at": "", **overrides}


@pytest.fixture
def front_desk(practice):
    return make_member(practice, Role.FRONT_DESK, "front-desk")


def test_the_front_desk_records_a_revocation_and_sees_it_at_once(practice, patient, front_desk):
    client = signed_in(front_desk)
    consent.record(patient, channel=Channel.SMS, purpose=Purpose.APPOINTMENT_REMINDERS,
                   granted=True, source=Source.PAPER_FORM, by=front_desk,
                   at=timezone.now() - dt.timedelta(days=30))
    response = client.post(url("consent", practice, patient), decision())
    assert response.status_code == 302
    entry = ConsentEntry.objects.order_by("created_at").last()
    assert (entry.granted, entry.source, entry.recorded_by, entry.evidence) == (
        False, Source.VERBAL, front_desk, EVIDENCE)
    assert not consent.state(patient, Channel.SMS, Purpose.APPOINTMENT_REMINDERS).allowed

    page = client.get(url("detail", practice, patient)).content.decode()
    assert "Consent and preferences" in page and EVIDENCE in page
    assert 'class="consent-revoked"><span>Revoked' in page
    table = page[page.index('class="stack consent-history"'):]
    assert table.index("Revoked</strong>") < table.index("Paper form")  # newest first
    viewed = AuditEvent.objects.filter(action=Action.VIEW).last()
    assert "consent_entries" in viewed.fields.split(",")
    recorded = AuditEvent.objects.get(action=Action.CREATE, object_id=str(entry.pk))
    assert recorded.actor_id == front_desk.pk and recorded.ip == "127.0.0.1"
    assert phi_in_audit(recorded, ["Okafor", "no more texts", "call instead"]) == []


def test_a_non_secure_request_is_recorded_with_its_scope(practice, patient, nurse):
    response = signed_in(nurse).post(url("consent", practice, patient), decision(
        channel="voicemail", purpose="results-ready", decision="granted", detail_allowed="on",
        evidence="Asked for results on voicemail; told voicemail is not secure."))
    assert response.status_code == 302
    assert consent.state(patient, Channel.VOICEMAIL, Purpose.RESULTS_READY).detail_allowed
    page = signed_in(nurse).get(url("detail", practice, patient)).content.decode()
    assert "details allowed" in page and "non-secure request" in page


@pytest.mark.parametrize("bad,message", [
    ({"decision": "revoked", "detail_allowed": "on"}, "Only a grant can allow details"),
    ({"decision": "granted", "detail_allowed": "on", "evidence": ""}, "told the channel is"),
    ({"decision": "granted", "purpose": "all"}, "Grant one purpose at a time"),
    ({"channel": "portal", "decision": "granted", "detail_allowed": "on"}, "portal is secure"),
    ({"at": "2999-01-01T10:00"}, "cannot take effect in the future"),
    ({"at": "1901-01-01T10:00"}, "too long ago"),
    ({"at": "yesterday"}, "Enter a valid date/time"),
    ({"source": "sms-keyword"}, "Select a valid choice"),
    ({"channel": "fax"}, "Select a valid choice"),
    ({"evidence": "x" * 1001}, "at most 1000 characters"),
])
def test_bad_decisions_are_refused_with_a_reason_and_nothing_saved(practice, patient, nurse, bad,
                                                                   message):
    response = signed_in(nurse).post(url("consent", practice, patient), decision(**bad))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConsentEntry.objects.exists()


def test_took_effect_is_read_in_the_practices_time(practice, patient, nurse):
    signed_in(nurse).post(url("consent", practice, patient), decision(at="2026-11-02T09:30"))
    assert ConsentEntry.objects.get().at == dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)


def test_billing_records_only_billing_decisions(practice, patient, biller):
    client = signed_in(biller)
    page = client.get(url("detail", practice, patient)).content.decode()
    assert 'value="billing"' in page and 'value="care-team"' not in page
    assert "Save preferences" not in page  # preferences are for those who edit the record
    refused = client.post(url("consent", practice, patient), decision(purpose="care-team"))
    assert refused.status_code == 400 and not ConsentEntry.objects.exists()
    assert client.post(url("consent", practice, patient),
                       decision(purpose="billing")).status_code == 302
    assert client.post(url("preferences", practice, patient),
                       {"do_not_leave_voicemail": "on"}).status_code == 404


@pytest.mark.parametrize("role", [Role.COMPLIANCE_OFFICER])
def test_roles_that_do_not_open_patients_record_nothing(practice, patient, role):
    client = signed_in(make_member(practice, role, "someone"))
    assert client.post(url("consent", practice, patient), decision()).status_code == 404
    assert client.get(url("consent_export", practice, patient)).status_code == 404
    assert not ConsentEntry.objects.exists()


def test_a_restricted_record_needs_break_glass_first(practice, front_desk):
    patient = make_patient(practice, "Dana", "Restricted", dt.date(1980, 1, 1), "+16175550111",
                           restricted=True)
    response = signed_in(front_desk).post(url("consent", practice, patient), decision())
    assert response.status_code == 403
    assert not ConsentEntry.objects.exists()
    assert AuditEvent.objects.filter(action=Action.DENIED, patient_id=str(patient.pk)).exists()


def test_a_second_practices_admin_gets_404_everywhere(practice, patient, other_admin,
                                                      other_practice):
    client = signed_in(other_admin)
    for name, method in [("consent", "post"), ("preferences", "post"),
                         ("consent_export", "get")]:
        for slug in (practice.slug, other_practice.slug):
            address = reverse(f"patients:{name}",
                              kwargs={"practice": slug, "patient_id": patient.pk})
            assert getattr(client, method)(address, decision()).status_code == 404, address
    assert not ConsentEntry.objects.exists()


def test_posting_forms_only_take_posts(practice, patient, nurse):
    client = signed_in(nurse)
    assert client.get(url("consent", practice, patient)).status_code == 405
    assert client.get(url("preferences", practice, patient)).status_code == 405


# --- the export ------------------------------------------------------------------------------

def test_the_history_exports_as_evidence_and_the_export_is_audited(practice, patient, nurse,
                                                                  front_desk):
    consent.record(patient, channel=Channel.EMAIL, purpose=Purpose.BILLING, granted=True,
                   source=Source.PAPER_FORM, by=nurse, evidence="=HYPERLINK(\"x\") form #12",
                   at=timezone.now() - dt.timedelta(days=2))
    consent.opt_out_by_sms(practice, "+16175550142", at=timezone.now(), evidence="STOP")
    response = signed_in(front_desk).get(url("consent_export", practice, patient))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="consent-') and "Okafor" not in disposition
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["channel"], r["decision"], r["source"]) for r in rows] == [
        ("sms", "revoked", "sms-keyword"), ("email", "granted", "paper-form")]
    assert rows[0]["contact"] == "(617) 555-0142" and rows[0]["recorded_by"] == ""
    assert rows[1]["evidence"].startswith("'=HYPERLINK")  # a spreadsheet shows, not runs, it
    assert rows[1]["recorded_by"] == "nurse"
    export = AuditEvent.objects.get(action=Action.CONSENT_EXPORT)
    assert export.patient_id == str(patient.pk) and export.reason.endswith("2 entries")
    assert export.fields == "consent_entries,consent_evidence"
    assert phi_in_audit(export, ["Okafor", "HYPERLINK", "617"]) == []


# --- who reads the evidence notes ------------------------------------------------------------

NOTE = "Mother signed on behalf; he is in hospital until Friday."
READERS = {Role.FRONT_DESK, Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN}
# Every role that opens a patient record without break-glass (all but the compliance officer).
OPENERS = [role for role in Role if role != Role.COMPLIANCE_OFFICER]


def noted(patient, by):
    """A signed form with a note on it, and a verbal decision with none."""
    consent.record(patient, channel=Channel.SMS, purpose=Purpose.APPOINTMENT_REMINDERS,
                   granted=True, source=Source.PAPER_FORM, by=by, evidence=NOTE,
                   at=timezone.now() - dt.timedelta(days=3))
    consent.record(patient, channel=Channel.EMAIL, purpose=Purpose.BILLING, granted=True,
                   source=Source.VERBAL, by=by, at=timezone.now() - dt.timedelta(days=1))


def history_table(html: str) -> str:
    return html[html.index('class="stack consent-history"'):html.index("</table>",
                html.index('class="stack consent-history"'))]


def fields_of(event) -> list[str]:
    return event.fields.split(",")


@pytest.mark.parametrize("role", OPENERS)
def test_the_page_shows_the_evidence_note_only_to_roles_that_need_it(practice, patient,
                                                                      front_desk, role):
    noted(patient, front_desk)
    member = make_member(practice, role, f"the-{role}")
    html = signed_in(member).get(url("detail", practice, patient)).content.decode()
    reads = role in READERS
    assert (NOTE in html) is reads
    table = history_table(html)
    # The entry with a note says "recorded"; the one without says nothing.
    assert table.count('<span class="muted">recorded</span>') == (0 if reads else 1)
    assert "Paper form" in table and "Verbal" in table  # the entries themselves, for all
    viewed = AuditEvent.objects.filter(action=Action.VIEW, actor_id=member.pk).get()
    assert "consent_entries" in fields_of(viewed)
    assert ("consent_evidence" in fields_of(viewed)) is reads
    assert phi_in_audit(viewed, ["Mother", "hospital"]) == []


@pytest.mark.parametrize("role", OPENERS)
def test_the_export_carries_the_evidence_note_only_for_roles_that_need_it(practice, patient,
                                                                          front_desk, role):
    noted(patient, front_desk)
    member = make_member(practice, role, f"the-{role}")
    response = signed_in(member).get(url("consent_export", practice, patient))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    reads = role in READERS
    assert [r["evidence"] for r in rows] == ["", NOTE if reads else "recorded"]
    assert (NOTE in response.content.decode()) is reads
    export = AuditEvent.objects.get(action=Action.CONSENT_EXPORT)
    assert fields_of(export) == ["consent_entries", *(["consent_evidence"] if reads else [])]


def test_the_compliance_officer_reads_the_notes_once_the_glass_is_broken(practice, patient,
                                                                          front_desk,
                                                                          compliance_officer):
    noted(patient, front_desk)
    client = signed_in(compliance_officer)
    assert client.get(url("detail", practice, patient)).status_code == 403
    BreakGlassGrant.objects.create(practice=practice, user=compliance_officer, patient=patient,
                                   reason=BreakGlassGrant.Reason.OTHER,
                                   explanation="consent complaint review",
                                   expires_at=BreakGlassGrant.default_expiry())
    html = client.get(url("detail", practice, patient)).content.decode()
    assert NOTE in html
    viewed = AuditEvent.objects.filter(action=Action.VIEW,
                                       actor_id=compliance_officer.pk).get()
    assert "consent_evidence" in fields_of(viewed)


def test_no_note_read_is_recorded_where_no_entry_has_one(practice, patient, front_desk):
    consent.record(patient, channel=Channel.EMAIL, purpose=Purpose.BILLING, granted=True,
                   source=Source.VERBAL, by=front_desk)
    signed_in(front_desk).get(url("detail", practice, patient))
    viewed = AuditEvent.objects.filter(action=Action.VIEW).get()
    assert "consent_entries" in fields_of(viewed)
    assert "consent_evidence" not in fields_of(viewed)


def test_the_export_asks_for_the_password_again_and_records_nothing_until_then(practice, patient,
                                                                             nurse):
    client = signed_in(nurse)
    session = client.session
    session["reauth_at"] = timezone.now().timestamp() - 3600
    session.save()
    response = client.get(url("consent_export", practice, patient))
    assert response.status_code == 302 and "reauth" in response["Location"]
    assert not AuditEvent.objects.filter(action=Action.CONSENT_EXPORT).exists()


def test_a_foreign_record_is_a_404_before_any_password_is_asked(practice, patient, other_admin,
                                                                other_practice):
    client = signed_in(other_admin)
    session = client.session
    session["reauth_at"] = timezone.now().timestamp() - 3600
    session.save()
    address = reverse("patients:consent_export", kwargs={"practice": other_practice.slug,
                                                         "patient_id": patient.pk})
    assert client.get(address).status_code == 404


# --- preferences -----------------------------------------------------------------------------

def test_preferences_are_saved_and_audited(practice, patient, front_desk):
    response = signed_in(front_desk).post(url("preferences", practice, patient), {
        "preferred_channel": "email", "only_preferred": "on", "do_not_leave_voicemail": "on",
        "window_start": "09:00", "window_end": "18:00", "time_zone": "America/Chicago"})
    assert response.status_code == 302
    pref = ContactPreference.objects.get()
    assert (pref.preferred_channel, pref.only_preferred, pref.window_end, pref.time_zone) == (
        "email", True, dt.time(18), "America/Chicago")
    event = AuditEvent.objects.get(object_type="patients.contactpreference")
    assert event.action == Action.CREATE and "do_not_leave_voicemail" in event.fields


@pytest.mark.parametrize("bad,message", [
    ({"window_start": "07:00"}, "never go out before 08:00"),
    ({"window_end": "22:30"}, "never go out after 21:00"),
    ({"window_start": "17:00", "window_end": "09:00"}, "must be after the earliest"),
    ({"window_start": "25:61"}, "Enter a valid time"),
    ({"only_preferred": "on"}, "Choose the one channel"),
    ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
])
def test_bad_preferences_are_refused(practice, patient, front_desk, bad, message):
    response = signed_in(front_desk).post(url("preferences", practice, patient), bad)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ContactPreference.objects.exists()


# --- asked at registration -------------------------------------------------------------------

def create_url(practice):
    return reverse("patients:create", kwargs={"practice": practice.slug})


NEW_PATIENT = {"given_name": "Priya", "family_name": "Raman", "date_of_birth": "1990-06-08",
               "contact-phone": "212-555-0187", "contact-label": "mobile"}


def test_registration_asks_for_consent_and_preferences(practice, agent):
    response = signed_in(agent).post(create_url(practice), {
        **NEW_PATIENT, "consent-asked": "on", "consent-channels": ["sms", "email"],
        "consent-purposes": ["appointment-reminders", "billing"],
        "pref-do_not_leave_voicemail": "on", "pref-window_end": "19:00"})
    assert response.status_code == 302
    patient = Patient.objects.get()
    allowed = {(c, p) for c in Channel.values for p in consent.ASKED
               if consent.state(patient, c, p).allowed}
    assert allowed == {("sms", "appointment-reminders"), ("sms", "billing"),
                       ("email", "appointment-reminders"), ("email", "billing")}
    assert consent.state(patient, Channel.VOICEMAIL, Purpose.CARE_TEAM).status == "revoked"
    assert consent.state(patient, Channel.SMS, Purpose.CARE_TEAM).status == "not asked"
    assert {e.source for e in ConsentEntry.objects.all()} == {Source.REGISTRATION}
    assert ContactPreference.objects.get().window_end == dt.time(19)


def test_registration_without_the_questions_records_no_consent(practice, agent):
    response = signed_in(agent).post(create_url(practice),
                                     NEW_PATIENT)
    assert response.status_code == 302
    assert not ConsentEntry.objects.exists()


def test_registration_with_half_answered_questions_saves_nothing(practice, agent):
    response = signed_in(agent).post(create_url(practice), {
        **NEW_PATIENT, "consent-channels": ["sms"], "pref-window_start": "06:00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tick what the patient agreed" in page and "before 08:00" in page
    assert "Tick this once the patient has answered" in page
    assert not Patient.objects.exists() and not ConsentEntry.objects.exists()


def test_the_page_names_the_phone_that_said_stop(practice, patient, nurse):
    consent.record(patient, channel=Channel.SMS, purpose=Purpose.BILLING, granted=True,
                   source=Source.PAPER_FORM, by=nurse, at=timezone.now() - dt.timedelta(days=1))
    service.add_contact(patient, "phone", "+16175550199", label="work")
    consent.opt_out_by_sms(practice, "+16175550142", at=timezone.now(), evidence="STOP")
    page = signed_in(nurse).get(url("detail", practice, patient)).content.decode()
    assert "no texts to (617) 555-0142 (STOP)" in page
    assert page.count("texts stopped") == 1  # the mobile; the work phone may still be texted
    assert 'class="consent-granted"><span>Granted' in page  # billing, as the patient chose


# --- fuzz ------------------------------------------------------------------------------------

ODD_VALUES = ["", "²", "\x00", "x" * 3000, "9999-12-31T23:59", "0001-01-01T00:00", "25:61",
              "2026-02-30T10:00", "all", "sms", "granted", "on", "verbal", "sms-keyword",
              "<script>", "=1+1", "😷" * 50, "\u2028", "America/New_York"]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(
    st.sampled_from(["channel", "purpose", "decision", "detail_allowed", "source", "evidence",
                     "at", "window_start", "window_end", "preferred_channel", "only_preferred",
                     "time_zone", "do_not_leave_voicemail"]),
    st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=30))))
def test_no_input_makes_a_500_or_half_an_entry(practice, patient, nurse, data):
    client = signed_in(nurse)
    before = ConsentEntry.objects.count(), ContactPreference.objects.count()
    for name in ("consent", "preferences"):
        response = client.post(url(name, practice, patient), data)
        assert response.status_code in (302, 400), (name, data, response.status_code)
        if response.status_code == 400:
            assert (ConsentEntry.objects.count(), ContactPreference.objects.count()) == before
        before = ConsentEntry.objects.count(), ContactPreference.objects.count()
