"""The consent ledger: consent is derived from the entries at the moment it is asked, the
entries never change, and a STOP from a phone stops texts to that phone only."""

import datetime as dt
import random

import pytest
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.db.utils import DatabaseError, IntegrityError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.patients import consent, service
from clinicline.patients.consent import InvalidEntry, Status
from clinicline.patients.models import (
    AppendOnly,
    Channel,
    ConsentEntry,
    ContactPreference,
    Purpose,
    Source,
)
from tests.conftest import make_member, make_patient, phi_in_audit

pytestmark = pytest.mark.django_db

SMS, EMAIL, VOICEMAIL = Channel.SMS, Channel.EMAIL, Channel.VOICEMAIL
REMINDERS, BILLING, RESULTS = Purpose.APPOINTMENT_REMINDERS, Purpose.BILLING, Purpose.RESULTS_READY
MONDAY = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return MONDAY + dt.timedelta(days=n)


@pytest.fixture
def front_desk(practice):
    return make_member(practice, Role.FRONT_DESK, "front-desk")


def grant(patient, by, channel=SMS, purpose=REMINDERS, at=None, **kw):
    return consent.record(patient, channel=channel, purpose=purpose, granted=True,
                          source=Source.VERBAL, by=by, at=at or day(0), **kw)


def revoke(patient, by, channel=SMS, purpose=REMINDERS, at=None, **kw):
    return consent.record(patient, channel=channel, purpose=purpose, granted=False,
                          source=Source.VERBAL, by=by, at=at or day(0), **kw)


def test_consent_is_the_latest_decision_at_the_time_asked(patient, front_desk):
    assert consent.state(patient, SMS, REMINDERS).status is Status.NONE
    first = grant(patient, front_desk, at=day(0))
    stop = revoke(patient, front_desk, at=day(3))
    again = grant(patient, front_desk, at=day(7))
    for when, status, entry in [(day(-1), Status.NONE, None), (day(1), Status.GRANTED, first),
                                (day(4), Status.REVOKED, stop), (day(8), Status.GRANTED, again)]:
        found = consent.state(patient, SMS, REMINDERS, at=when)
        assert (found.status, found.entry) == (status, entry), when
    # Another purpose, another channel: never asked.
    assert consent.state(patient, SMS, BILLING).status is Status.NONE
    assert consent.state(patient, EMAIL, REMINDERS).status is Status.NONE


def test_a_revocation_beats_a_grant_at_the_same_instant(patient, front_desk):
    revoke(patient, front_desk, at=day(1))
    grant(patient, front_desk, at=day(1))  # recorded later, same moment of effect
    assert consent.state(patient, SMS, REMINDERS, at=day(2)).status is Status.REVOKED


def test_every_purpose_at_once_and_then_one_back(patient, front_desk):
    grant(patient, front_desk, purpose=REMINDERS, at=day(0))
    grant(patient, front_desk, purpose=BILLING, at=day(0))
    revoke(patient, front_desk, purpose=Purpose.ALL, at=day(2))
    assert consent.state(patient, SMS, REMINDERS, at=day(3)).status is Status.REVOKED
    assert consent.state(patient, SMS, BILLING, at=day(3)).status is Status.REVOKED
    grant(patient, front_desk, purpose=BILLING, at=day(4))
    assert consent.state(patient, SMS, BILLING, at=day(5)).allowed
    assert not consent.state(patient, SMS, REMINDERS, at=day(5)).allowed


def test_a_non_secure_request_allows_detail_only_while_it_stands(patient, front_desk):
    plain = grant(patient, front_desk, channel=VOICEMAIL, purpose=RESULTS, at=day(0))
    assert not consent.state(patient, VOICEMAIL, RESULTS, at=day(1)).detail_allowed
    asked = grant(patient, front_desk, channel=VOICEMAIL, purpose=RESULTS, at=day(2),
                  detail_allowed=True, evidence="Asked us to leave results on voicemail; "
                                                 "told it is not secure.")
    found = consent.state(patient, VOICEMAIL, RESULTS, at=day(3))
    assert found.detail_allowed and found.entry == asked and asked.scope == "non-secure request"
    assert plain.scope == "consent"
    grant(patient, front_desk, channel=VOICEMAIL, purpose=RESULTS, at=day(4))  # back to plain
    assert not consent.state(patient, VOICEMAIL, RESULTS, at=day(5)).detail_allowed


@pytest.mark.parametrize("bad,message", [
    ({"source": Source.VERBAL, "by": None}, "who recorded it"),
    ({"granted": False, "detail_allowed": True}, "Only a grant"),
    ({"channel": Channel.PORTAL, "detail_allowed": True}, "portal is secure"),
    ({"at": timezone.now() + dt.timedelta(days=1)}, "future"),
    ({"source": Source.SMS_KEYWORD}, "opt_out_by_sms"),
])
def test_the_ledger_refuses_entries_that_make_no_sense(patient, front_desk, bad, message):
    values = {"channel": SMS, "purpose": REMINDERS, "granted": True, "source": Source.PAPER_FORM,
              "by": front_desk, **bad}
    with pytest.raises(InvalidEntry, match=message):
        consent.record(patient, **values)
    assert not ConsentEntry.objects.exists()


def test_a_contact_of_another_patient_is_refused(practice, patient, front_desk):
    other = make_patient(practice, "Priya", "Raman", dt.date(1990, 6, 8), "+12125550187")
    with pytest.raises(InvalidEntry, match="not this patient"):
        grant(patient, front_desk, contact=other.contact_points.get())


def test_entries_are_never_changed_or_deleted(patient, front_desk):
    entry = grant(patient, front_desk)
    entry.granted = False
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        ConsentEntry.objects.filter(pk=entry.pk).update(granted=False)
    with pytest.raises(AppendOnly):
        ConsentEntry.objects.all().delete()
    assert ConsentEntry.objects.get().granted is True


def test_the_database_refuses_an_update_that_goes_around_the_orm(patient, front_desk):
    entry = grant(patient, front_desk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE patients_consententry SET granted = %s WHERE id = %s",
                       [False, entry.pk.hex if connection.vendor == "sqlite" else entry.pk])
    assert ConsentEntry.objects.get().granted is True


def test_detail_on_a_revocation_is_refused_by_the_database_too(patient, front_desk):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentEntry.objects.create(practice=patient.practice, patient=patient, channel=SMS,
                                    purpose=REMINDERS, granted=False, detail_allowed=True,
                                    source=Source.VERBAL, recorded_by=front_desk, at=day(0))


def test_a_patient_record_can_still_be_purged_with_its_ledger(patient, front_desk):
    grant(patient, front_desk)
    service.delete_patient(patient)
    assert not ConsentEntry.objects.exists()


def test_the_audit_row_names_the_decision_never_the_note(patient, front_desk):
    entry = grant(patient, front_desk, detail_allowed=True,
                  evidence="Walter Okafor said on 1958-04-02 call: text me at 617-555-0142")
    event = AuditEvent.objects.filter(action=Action.CREATE, object_id=str(entry.pk)).get()
    assert event.actor_id == front_desk.pk and event.patient_id == str(patient.pk)
    assert "sms, appointment-reminders granted with details" in event.reason
    assert phi_in_audit(event, ["Walter", "Okafor", "1958", "617-555-0142", "text me"]) == []


def test_the_evidence_note_is_encrypted_at_rest(patient, front_desk):
    entry = grant(patient, front_desk, evidence="Signed the Okafor consent form")
    with connection.cursor() as cursor:
        cursor.execute("SELECT evidence FROM patients_consententry WHERE id = %s",
                       [entry.pk.hex if connection.vendor == "sqlite" else entry.pk])
        stored = cursor.fetchone()[0]
    assert "Okafor" not in stored
    assert ConsentEntry.objects.get().evidence == "Signed the Okafor consent form"


# --- texts: STOP and START from a number -----------------------------------------------------

def test_stop_from_one_number_stops_texts_to_that_number_only(practice, patient, front_desk):
    mobile = patient.contact_points.get()
    home = service.add_contact(patient, "phone", "+16175550199", label="home")
    grant(patient, front_desk, purpose=REMINDERS, at=day(0))
    (stop,) = consent.opt_out_by_sms(practice, "(617) 555-0142", at=day(1), evidence="STOP")
    assert (stop.patient, stop.contact, stop.purpose) == (patient, mobile, Purpose.ALL)
    at_mobile = consent.state(patient, SMS, REMINDERS, at=day(2), contact=mobile)
    assert (at_mobile.status, at_mobile.entry, at_mobile.by_number) == (Status.REVOKED, stop,
                                                                         True)
    assert consent.state(patient, SMS, REMINDERS, at=day(2), contact=home).allowed
    # Not knowing the number, the careful answer: no. The patient's own decision stands.
    assert not consent.state(patient, SMS, REMINDERS, at=day(2)).allowed
    assert consent.patient_decision(patient, SMS, REMINDERS, at=day(2)).allowed
    assert consent.number_blocked(mobile) == stop and consent.number_blocked(home) is None
    # The phone's owner said STOP: a grant recorded at the desk does not override it...
    grant(patient, front_desk, purpose=REMINDERS, at=day(3))
    assert not consent.state(patient, SMS, REMINDERS, at=day(4), contact=mobile).allowed
    # ...START from that phone does, giving back what the patient had granted, no more.
    consent.opt_in_by_sms(practice, "+16175550142", at=day(5), evidence="START")
    assert consent.state(patient, SMS, REMINDERS, at=day(6), contact=mobile).allowed
    assert consent.state(patient, SMS, BILLING, at=day(6), contact=mobile).status is Status.NONE
    # Other channels to the same number are the patient's own decisions.
    assert consent.state(patient, Channel.VOICE, REMINDERS, at=day(2)).status is Status.NONE


def test_a_shared_number_stops_for_everyone_who_has_it(practice, patient, front_desk):
    child = make_patient(practice, "Ada", "Okafor", dt.date(2015, 3, 9), "+16175550142")
    grant(child, front_desk, at=day(0))
    entries = consent.opt_out_by_sms(practice, "+16175550142", at=day(1), evidence="STOP")
    assert {e.patient for e in entries} == {patient, child}
    assert not consent.state(child, SMS, REMINDERS, at=day(2),
                             contact=child.contact_points.get()).allowed


def test_stop_from_an_unknown_number_holds_for_a_patient_added_later(practice, front_desk):
    (stop,) = consent.opt_out_by_sms(practice, "+12025550173", at=day(1), evidence="STOP")
    assert stop.patient is None and stop.number_index
    assert AuditEvent.objects.get(object_id=str(stop.pk)).patient_id == ""
    later = make_patient(practice, "Marcus", "Bell", dt.date(1971, 11, 19), "+12025550173")
    grant(later, front_desk, at=day(2))
    assert not consent.state(later, SMS, REMINDERS, at=day(3),
                             contact=later.contact_points.get()).allowed
    assert consent.history(later)[-1] == stop  # the evidence shows on their page


def test_a_stop_at_one_practice_is_not_another_practices(practice, other_practice, patient,
                                                         front_desk):
    consent.opt_out_by_sms(other_practice, "+16175550142", at=day(1), evidence="STOP")
    grant(patient, front_desk, at=day(0))
    assert consent.state(patient, SMS, REMINDERS, at=day(2),
                         contact=patient.contact_points.get()).allowed


def test_state_is_one_indexed_query_a_layer(patient, front_desk):
    grant(patient, front_desk)
    mobile = patient.contact_points.get()
    with CaptureQueriesContext(connection) as queries:
        consent.state(patient, EMAIL, REMINDERS)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        consent.state(patient, SMS, REMINDERS, contact=mobile)
    assert len(queries) == 2
    assert all("LIMIT 1" in q["sql"] for q in queries.captured_queries)


def test_history_is_newest_first(patient, front_desk):
    made = [grant(patient, front_desk, at=day(0)), revoke(patient, front_desk, at=day(2)),
            grant(patient, front_desk, channel=EMAIL, at=day(1))]
    assert consent.history(patient) == [made[1], made[2], made[0]]


# --- preferences ---------------------------------------------------------------------------

def test_preferences_are_audited_field_by_field(patient, front_desk):
    assert consent.preferences(patient).pk is None
    changed = consent.set_preferences(patient, actor=front_desk, preferred_channel=EMAIL,
                                      only_preferred=True, window_start=dt.time(9, 0))
    assert changed == ["preferred_channel", "only_preferred", "window_start"]
    assert consent.set_preferences(patient, actor=front_desk, preferred_channel=EMAIL) == []
    consent.set_preferences(patient, actor=front_desk, do_not_leave_voicemail=True)
    events = AuditEvent.objects.filter(object_type="patients.contactpreference")
    assert [(e.action, e.fields) for e in events] == [
        (Action.CREATE, "preferred_channel,only_preferred,window_start"),
        (Action.UPDATE, "do_not_leave_voicemail")]
    assert ContactPreference.objects.get().do_not_leave_voicemail


def test_the_contact_window_only_narrows(practice, patient, front_desk):
    assert consent.contact_window(patient, practice.tz) == (dt.time(8), dt.time(21), practice.tz)
    consent.set_preferences(patient, actor=front_desk, window_end=dt.time(18, 30),
                            time_zone="America/Denver")
    start, end, tz = consent.contact_window(patient, practice.tz)
    assert (start, end, str(tz)) == (dt.time(8), dt.time(18, 30), "America/Denver")


def test_states_of_many_patients_at_once_say_what_state_says_of_each(practice, other_practice,
                                                                     front_desk):
    """The batch read (one query for a whole batch of sending decisions) against the one
    that reads per patient, over random ledgers: own entries bound to a contact or not,
    every purpose at once, STOP and START by number, a number two patients share and one
    another practice's patient has too."""
    rng = random.Random(20261202)
    numbers = ["+16175550142", "+16175550143", "+16175550144"]
    patients = [make_patient(practice, f"Pat{n}", "Lee", dt.date(1960 + n, 1, 2), numbers[n % 3])
                for n in range(5)]
    stranger = make_patient(other_practice, "Ola", "Lee", dt.date(1970, 1, 2), numbers[0])
    for patient in patients[:3]:
        service.add_contact(patient, "phone", f"+1617555{rng.randrange(200, 300):04d}",
                            label="home")
    channels, purposes = [SMS, EMAIL, Channel.VOICE], [REMINDERS, BILLING, RESULTS]
    for n in range(60):
        patient = rng.choice(patients)
        at = day(rng.randrange(10))
        if n % 7 == 0:
            consent.opt_out_by_sms(rng.choice([practice, other_practice]),
                                   rng.choice(numbers), at=at, evidence="STOP")
        elif n % 11 == 0:
            consent.opt_in_by_sms(practice, rng.choice(numbers), at=at, evidence="START")
        else:
            granted = rng.random() < 0.6
            phones = list(patient.contact_points.all())
            consent.record(patient, channel=rng.choice(channels),
                           purpose=rng.choice(purposes) if granted or rng.random() < 0.7
                           else Purpose.ALL, granted=granted, source=Source.VERBAL,
                           by=front_desk, at=at,
                           contact=rng.choice([None, *phones]) if rng.random() < 0.3 else None)
    everyone = [*patients, stranger]
    compared = 0
    for when in (day(3), day(6), day(11)):
        for channel in channels:
            for purpose in purposes:
                wanted = [(p, c) for p in everyone
                          for c in [None, *p.contact_points.all()]]
                batch = consent.states_of(wanted, channel, purpose, at=when)
                for patient, contact in wanted:
                    one = consent.state(patient, channel, purpose, at=when, contact=contact)
                    many = batch[patient.pk, contact.pk if contact else None]
                    assert (many.status, many.entry) == (one.status, one.entry), (
                        patient, contact, channel, purpose, when)
                    compared += 1
    statuses = {consent.state(p, SMS, REMINDERS, at=day(11)).status for p in everyone}
    assert compared > 300 and len(statuses) > 1  # the ledgers are not all alike


def test_states_of_is_one_query_for_the_batch(practice, patient, front_desk):
    grant(patient, front_desk)
    other = make_patient(practice, "Ada", "Okafor", dt.date(2015, 3, 9), "+16175550150")
    prefetch_related_objects([patient, other], "contact_points")  # as a batch has them
    wanted = [(patient, patient.contact_points.get()), (other, None)]
    with CaptureQueriesContext(connection) as queries:
        consent.states_of(wanted, SMS, REMINDERS, at=day(1))
    assert len(queries) == 1
