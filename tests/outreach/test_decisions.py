"""The sending decision: Riverside Family Medicine (Boston) asks Walter Okafor to call about
his results, and reminds him of his appointment with Dr. Amara Osei. Every attempt is
recorded as sent, withheld or deferred, and why; nothing reaches his phone without his
live consent, inside his waking hours, within the caps, through approved words the PHI
guard passed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import phonenumbers
import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.jobs import job
from clinicline.outbox.models import Delivery
from clinicline.outreach import appointments, decisions, reminders, service, zones
from clinicline.outreach import results as request_results
from clinicline.outreach.appointment_models import Appointment, Reminder, ReminderStatus
from clinicline.outreach.decision_models import Outcome, SendDecision, SendingPolicy
from clinicline.outreach.kinds import Channel, Purpose, Reason
from clinicline.outreach.templates import Values
from clinicline.outreach.voice_models import OutreachCall
from clinicline.patients import consent
from clinicline.patients import service as patients
from clinicline.patients.models import ContactPoint, Source
from clinicline.practices.models import Provider
from tests.conftest import make_member, make_patient, make_practice
from tests.outreach.support import SIGNED, WALTER_MOBILE, consents, row, walter

NY, LA = zoneinfo.ZoneInfo("America/New_York"), zoneinfo.ZoneInfo("America/Los_Angeles")
# Tuesday 8 December 2026, 10:00 in Boston.
MORNING = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)
NIGHT = dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)  # 03:00 in Boston
EIGHT_AM = dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def fatima(practice):
    return make_member(practice, Role.FRONT_DESK, "fatima")


@pytest.fixture
def osei(practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")


def results(practice, patient, provider, *, at=MORNING, key="results-1",
            channel=Channel.SMS) -> SendDecision:
    return decisions.send(practice, patient, purpose=Purpose.RESULTS_READY, channel=channel,
                          reason=Reason.RESULTS, values=Values(provider=provider), at=at,
                          idempotency_key=key)


def consenting_walter(practice, fatima, purpose="results-ready"):
    patient = walter(practice)
    consents(patient, fatima, purpose=purpose)
    return patient


# --- every reason, one table -------------------------------------------------------------

def _no_consent(practice, fatima, osei):
    return walter(practice)


def _opted_out(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    consent.record(patient, channel="sms", purpose="results-ready", granted=False,
                   source=Source.VERBAL, by=fatima, evidence="asked on the phone",
                   at=SIGNED + dt.timedelta(days=1))
    return patient


def _stop_texted(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    consent.opt_out_by_sms(practice, WALTER_MOBILE, at=SIGNED + dt.timedelta(days=1),
                           evidence="STOP")
    return patient


def _night(practice, fatima, osei):
    return consenting_walter(practice, fatima)


def _capped(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    assert results(practice, patient, osei, at=MORNING - dt.timedelta(hours=2),
                   key="earlier").outcome == Outcome.SENT
    return patient


def _leaky_provider(practice, fatima, osei):
    """Words naming the provider, approved; then the roster entry is renamed to say what
    kind of doctor she is."""
    admin = make_member(practice, Role.PRACTICE_ADMIN, "dana")
    draft = service.save_draft(practice, (Purpose.RESULTS_READY, Channel.SMS, "en"),
                               "{practice}: please call {callback_number} for {provider}. "
                               "Reply STOP to opt out.", by=admin)
    service.approve(draft, by=admin)
    osei.display_name = "Dr. Amara Osei, Oncology"
    osei.save()
    return consenting_walter(practice, fatima)


def _unverified(practice, fatima, osei):
    patient = walter(practice, verified=False)
    consents(patient, fatima, purpose="results-ready")
    return patient


def _landline_only(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    ContactPoint.objects.filter(patient=patient).delete()
    patients.add_contact(patient, ContactPoint.Kind.PHONE, "+18005550199", label="home",
                         verified_at=timezone.now())
    return patient


def _no_phone(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    ContactPoint.objects.filter(patient=patient).delete()
    return patient


CASES = [
    ("sent", lambda p, f, o: consenting_walter(p, f), MORNING, Outcome.SENT, ""),
    ("no consent asked", _no_consent, MORNING, Outcome.WITHHELD, "no-consent"),
    ("revoked on the phone", _opted_out, MORNING, Outcome.WITHHELD, "opted-out"),
    ("STOP texted from the number", _stop_texted, MORNING, Outcome.WITHHELD, "opted-out"),
    ("03:00 in Boston", _night, NIGHT, Outcome.DEFERRED, "quiet-hours"),
    ("second exempt text today", _capped, MORNING, Outcome.WITHHELD, "frequency-cap"),
    ("a roster name naming a specialty", _leaky_provider, MORNING, Outcome.WITHHELD, "phi"),
    ("mobile never verified", _unverified, MORNING, Outcome.WITHHELD, "unverified-contact"),
    ("no phone at all", _no_phone, MORNING, Outcome.WITHHELD, "unverified-contact"),
    ("only a toll-free line", _landline_only, MORNING, Outcome.WITHHELD, "invalid-number"),
]


def together(practice, fatima, patient, provider, *, at) -> tuple[SendDecision, SendDecision]:
    """The same attempt decided by ``send_many`` in a batch with another patient's, who
    consented (theirs, then the case's)."""
    other = make_patient(practice, "Ada", "Lee", dt.date(1990, 7, 4), "+16175550177")
    ContactPoint.objects.filter(patient=other).update(verified_at=SIGNED)
    consents(other, fatima, purpose="results-ready")
    drafts = [decisions.draft(practice, p, purpose=Purpose.RESULTS_READY, channel=Channel.SMS,
                              reason=Reason.RESULTS, values=Values(provider=provider),
                              idempotency_key=f"results-{n}")
              for n, p in enumerate([other, patient])]
    before = Delivery.objects.count()
    with transaction.atomic(), decisions.batch():
        decisions.send_many(drafts, at)
    sent = sum(d.outcome == Outcome.SENT for d in drafts)
    assert Delivery.objects.count() == before + sent
    return drafts[0], drafts[1]


@pytest.mark.django_db
@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
@pytest.mark.parametrize(("case", "arrange", "at", "outcome", "reason"), CASES,
                         ids=[c[0] for c in CASES])
def test_every_attempt_is_recorded_with_its_reason(practice, fatima, osei, case, arrange, at,
                                                   outcome, reason, batched):
    patient = arrange(practice, fatima, osei)
    before = Delivery.objects.count()
    if batched:
        theirs, decision = together(practice, fatima, patient, osei, at=at)
        # Only the hour and the provider they share may hold theirs back too.
        assert theirs.reason == (reason if reason in ("quiet-hours", "phi") else "")
        before += theirs.outcome == Outcome.SENT
    else:
        decision = results(practice, patient, osei, at=at)
    decision.refresh_from_db()
    assert (decision.outcome, decision.reason) == (outcome, reason)
    assert (decision.purpose, decision.channel) == (Purpose.RESULTS_READY, Channel.SMS)
    if outcome == Outcome.SENT:
        assert decision.delivery.body == ("Riverside Family Medicine: Your results are ready. "
                                          "Please call the office at 617-555-0100. Reply "
                                          "STOP to opt out.")
        assert (decision.delivery.to, decision.template_number) == (WALTER_MOBILE, 0)
        assert decision.consent_entry.granted and decision.exempt
    else:
        assert decision.delivery is None
        assert Delivery.objects.count() == before
    if reason == "opted-out":
        assert decision.consent_entry is not None and not decision.consent_entry.granted


@pytest.mark.django_db
def test_a_number_that_is_no_number_is_invalid(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    contact = ContactPoint.objects.get(patient=patient)
    contact.value = "+1555"  # imported from an old system, before numbers were checked
    contact.save()
    assert results(practice, patient, osei).reason == "invalid-number"


@pytest.mark.django_db
def test_preferences_only_email_and_no_voicemail_withhold_other_channels(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    consent.set_preferences(patient, preferred_channel="email", only_preferred=True)
    assert results(practice, patient, osei).reason == "no-consent"


# --- quiet hours ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_text_at_night_is_deferred_to_8am_and_sent_then_by_the_job(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    deferred = results(practice, patient, osei, at=NIGHT)
    assert (deferred.outcome, deferred.due_at) == (Outcome.DEFERRED, EIGHT_AM)
    deferred_job = job("outreach-deferred")
    with time_machine.travel(EIGHT_AM - dt.timedelta(minutes=1), tick=False):
        assert deferred_job.run() == 0
    with time_machine.travel(EIGHT_AM, tick=False):
        assert deferred_job.run() == 1
        assert deferred_job.run() == 0  # decided once
    deferred.refresh_from_db()
    assert deferred.outcome == Outcome.DEFERRED and deferred.settled_at == EIGHT_AM
    sent = SendDecision.objects.get(deferred_from=deferred)
    assert (sent.outcome, sent.decided_at) == (Outcome.SENT, EIGHT_AM)
    assert Delivery.objects.get().pk == sent.delivery_id


@pytest.mark.django_db
def test_consent_revoked_while_deferred_withholds_it_at_8am(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    deferred = results(practice, patient, osei, at=NIGHT)
    with time_machine.travel(NIGHT + dt.timedelta(hours=2), tick=False):
        consent.opt_out_by_sms(practice, WALTER_MOBILE, at=timezone.now(), evidence="STOP")
    with time_machine.travel(EIGHT_AM, tick=False):
        assert job("outreach-deferred").run() == 1
    again = SendDecision.objects.get(deferred_from=deferred)
    assert (again.outcome, again.reason) == (Outcome.WITHHELD, "opted-out")
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_patients_narrower_window_and_the_practices_policy_both_hold(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    consent.set_preferences(patient, window_start=dt.time(10, 0))
    ten_am = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)
    assert results(practice, patient, osei, at=EIGHT_AM, key="a").due_at == ten_am
    SendingPolicy.objects.create(practice=practice, window_start=dt.time(9),
                                 window_end=dt.time(17))
    five_pm = dt.datetime(2026, 12, 8, 22, 0, tzinfo=dt.UTC)
    decision = results(practice, patient, osei, at=five_pm, key="b")
    assert (decision.outcome, decision.due_at) == (Outcome.DEFERRED,
                                                   ten_am + dt.timedelta(days=1))


@pytest.mark.django_db
def test_a_patient_in_california_is_texted_by_california_hours(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    patient.address = {"street": "1 Main St", "city": "Fresno", "state": "CA",
                       "postal_code": "93701"}
    patient.save()
    # 10:00 in Boston is 07:00 in Fresno: deferred to 08:00 there, 11:00 in Boston.
    decision = results(practice, patient, osei, at=MORNING)
    assert (decision.outcome, decision.due_at) == (
        Outcome.DEFERRED, dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC))


def test_zones_from_the_address_the_zip_and_the_number():
    assert zones.from_address({"state": "ma"}) == "America/New_York"
    assert zones.from_address({"state": "FL", "postal_code": "32501"}) == "America/Chicago"
    assert zones.from_address({"state": "FL", "postal_code": "33101"}) == "America/New_York"
    assert zones.from_address({"state": "TN", "postal_code": "37902"}) == "America/New_York"
    assert zones.from_address({"state": "TN", "postal_code": "38103"}) == "America/Chicago"
    assert zones.from_address({"state": "TX", "postal_code": "79901"}) == "America/Denver"
    assert zones.from_address({"state": "ZZ"}) is None
    assert zones.from_address(None) is None
    assert zones.from_number("+13105550142") == ["America/Los_Angeles"]
    assert len(zones.from_number("+18005550100")) > 5  # toll-free: everywhere
    assert zones.from_number("not a number") == []


@pytest.mark.django_db
@pytest.mark.parametrize(("now", "opens"), [
    # The Sunday clocks go back (1 Nov 2026): 07:30 EST is 12:30 UTC, 08:00 EST is 13:00.
    (dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, 13, 0,
                                                                  tzinfo=dt.UTC)),
    # The Sunday they go forward (8 Mar 2026): 08:00 EDT is 12:00 UTC.
    (dt.datetime(2026, 3, 8, 11, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 8, 12, 0,
                                                                 tzinfo=dt.UTC)),
    # 21:00 EDT on 7 Mar is still EST (02:00 UTC): the next opening is 08:00 EDT.
    (dt.datetime(2026, 3, 8, 2, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 8, 12, 0,
                                                                tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 8, 14, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 8, 14, 0,
                                                                tzinfo=dt.UTC)),
])
def test_quiet_hours_across_the_daylight_saving_changes(practice, now, opens):
    patient = walter(practice)
    policy = decisions.policy_for(practice)
    assert decisions.window_opens(patient, practice, policy, now, number=WALTER_MOBILE) == opens


@pytest.mark.django_db
def test_a_number_in_several_zones_keeps_to_the_window_inside_all_of_them(practice):
    patient = walter(practice)
    policy = decisions.policy_for(practice)
    at = dt.datetime(2026, 12, 8, 13, 30, tzinfo=dt.UTC)  # 08:30 in Boston, 05:30 in LA
    toll_free = "+18005550100"  # Guam to Newfoundland: no hour is inside every window
    assert decisions.window_opens(patient, practice, policy, at, number=toll_free) > at
    assert [at.astimezone(z).hour for z in (NY, LA)] == [8, 5]
    opens = decisions.window_opens(patient, practice, policy, at, number="+13105550142")
    assert opens == dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)  # 08:00 in LA


# --- caps ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_three_exempt_texts_a_week_then_the_cap(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    days = [MORNING + dt.timedelta(days=d) for d in range(4)]
    made = [results(practice, patient, osei, at=day, key=f"r{n}") for n, day in enumerate(days)]
    assert [(d.outcome, d.reason) for d in made] == [("sent", "")] * 3 + [
        ("withheld", "frequency-cap")]
    # A week after the first, one may go again.
    assert results(practice, patient, osei, at=days[0] + dt.timedelta(days=7, minutes=1),
                   key="r5").outcome == Outcome.SENT


@pytest.mark.django_db
def test_a_practice_may_set_a_stricter_weekly_cap(practice, fatima, osei):
    SendingPolicy.objects.create(practice=practice, per_week=2)
    patient = consenting_walter(practice, fatima)
    made = [results(practice, patient, osei, at=MORNING + dt.timedelta(days=d), key=f"r{d}")
            for d in range(3)]
    assert [d.reason for d in made] == ["", "", "frequency-cap"]


@pytest.mark.django_db
def test_withheld_texts_do_not_count_toward_the_cap(practice, fatima, osei):
    patient = walter(practice)
    assert results(practice, patient, osei, key="a").reason == "no-consent"
    consents(patient, fatima, purpose="results-ready")
    assert results(practice, patient, osei, key="b").outcome == Outcome.SENT


# --- the guard on the words as sent ----------------------------------------------------------

@pytest.mark.django_db
def test_a_practice_that_keeps_its_name_out_has_it_blocked_in_words_approved_before(fatima):
    fertility = make_practice("hope", "Hope Fertility Center")
    admin = make_member(fertility, Role.PRACTICE_ADMIN, "dana")
    kind = (Purpose.RESULTS_READY, Channel.SMS, "en")
    draft = service.save_draft(fertility, kind, "{practice}: please call us at "
                               "{callback_number}. Reply STOP to opt out.", by=admin)
    service.approve(draft, by=admin)
    fertility.name_in_messages = False  # later: the name says too much
    fertility.save()
    desk = make_member(fertility, Role.FRONT_DESK, "joy")
    patient = walter(fertility)
    consents(patient, desk, purpose="results-ready")
    decision = results(fertility, patient, None)
    assert (decision.outcome, decision.reason, decision.template_number) == (
        Outcome.WITHHELD, "phi", 1)
    assert not Delivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("channel", [Channel.VOICEMAIL, Channel.VOICE])
def test_a_roster_name_naming_a_specialty_withholds_the_voicemail_and_the_results_call(
        practice, fatima, osei, channel):
    # The shipped voicemail names "{provider}'s office", which a results call leaves on a
    # machine too: "Dr. Amara Osei, Oncology's office" says what kind of doctor it is.
    patient = walter(practice)
    consents(patient, fatima, channel=channel, purpose="results-ready")
    osei.display_name = "Dr. Amara Osei, Oncology"
    osei.save()
    with time_machine.travel(MORNING, tick=False):
        decision = request_results.request(practice, patient, by=fatima, channel=channel,
                                           provider=osei).decision
    assert (decision.outcome, decision.reason, decision.channel) == (
        Outcome.WITHHELD, "phi", channel)
    assert not Delivery.objects.exists() and not OutreachCall.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("channel", [Channel.VOICEMAIL, Channel.VOICE])
def test_the_results_call_of_a_plain_roster_name_is_placed(practice, fatima, osei, channel):
    patient = walter(practice)
    consents(patient, fatima, channel=channel, purpose="results-ready")
    with time_machine.travel(MORNING, tick=False):
        decision = request_results.request(practice, patient, by=fatima, channel=channel,
                                           provider=osei).decision
    assert (decision.outcome, decision.channel) == (Outcome.SENT, channel)
    assert OutreachCall.objects.get().delivery == decision.delivery
    assert "Dr. Amara Osei's office" in decision.delivery.body


# --- reminders -------------------------------------------------------------------------------

VISIT = dt.datetime(2026, 12, 10, 14, 30, tzinfo=dt.UTC)  # Thursday 09:30 in Boston


def booked(practice, fatima, osei) -> Appointment:
    patient = consenting_walter(practice, fatima, purpose="appointment-reminders")
    appointments.import_appointments(practice, [row(starts_at=VISIT, mrn=patient.mrn)],
                                     by=fatima, now=VISIT - dt.timedelta(days=9))
    return Appointment.objects.get()


@pytest.mark.django_db
def test_a_reminder_due_at_night_waits_for_8am_and_is_recorded_on_the_reminder(
        practice, fatima, osei):
    appointment = booked(practice, fatima, osei)
    night = dt.datetime(2026, 12, 8, 7, 0, tzinfo=dt.UTC)  # 02:00 in Boston
    two_day = Reminder.objects.get(appointment=appointment, offset_h=48)
    Reminder.objects.filter(pk=two_day.pk).update(send_at=night)
    Reminder.objects.filter(offset_h=168).delete()
    assert reminders.send_due(now=night) == 1
    two_day.refresh_from_db()
    assert (two_day.status, two_day.reason) == (ReminderStatus.DEFERRED, "quiet-hours")
    assert reminders.send_due(now=EIGHT_AM) == 0  # not the reminder job's any more
    with time_machine.travel(EIGHT_AM, tick=False):
        assert job("outreach-deferred").run() == 1
    two_day.refresh_from_db()
    assert (two_day.status, two_day.delivery.body) == (
        ReminderStatus.SENT, "Riverside Family Medicine: appt Thu Dec 10 at 9:30 AM. Reply C "
        "to confirm, R to reschedule. Call 617-555-0100. Reply STOP to opt out.")


@pytest.mark.django_db
def test_a_deferred_reminder_whose_appointment_is_confirmed_is_skipped(practice, fatima, osei):
    appointment = booked(practice, fatima, osei)
    night = dt.datetime(2026, 12, 8, 7, 0, tzinfo=dt.UTC)
    Reminder.objects.filter(offset_h=168).delete()
    Reminder.objects.filter(offset_h=48).update(send_at=night)
    reminders.send_due(now=night)
    Appointment.objects.filter(pk=appointment.pk).update(status="confirmed")
    with time_machine.travel(EIGHT_AM, tick=False):
        assert job("outreach-deferred").run() == 1
    reminder = Reminder.objects.get(offset_h=48)
    assert (reminder.status, reminder.reason) == (ReminderStatus.SKIPPED_CONFIRMED, "confirmed")
    assert not Delivery.objects.exists()


# --- what a decision row holds ---------------------------------------------------------------

@pytest.mark.django_db
def test_no_phi_in_the_decision_rows(practice, fatima, osei):
    patient = consenting_walter(practice, fatima)
    results(practice, patient, osei, key="a")
    results(practice, patient, osei, key="b", at=NIGHT)
    table = SendDecision._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a model's own table)
        stored = " ".join(str(v) for r in cursor.fetchall() for v in r)
    for secret in ("Walter", "Okafor", "6175550142", "617-555-0142", "RFM-100142", "1958",
                   "results are ready"):
        assert secret not in stored


@pytest.mark.django_db
def test_another_practices_patient_is_refused(practice, other_practice, fatima, osei):
    stranger = walter(other_practice)
    with pytest.raises(ValueError, match="not this practice"):
        results(practice, stranger, osei)


@pytest.mark.django_db
def test_a_reminder_for_an_appointment_on_the_patients_birthday_is_still_sent(
        practice, fatima, osei):
    """Walter was born on 2 April; his appointment is on 2 April. The date in the text is
    the appointment's (a typed slot), not his birth date."""
    patient = consenting_walter(practice, fatima, purpose="appointment-reminders")
    birthday_visit = dt.datetime(2027, 4, 2, 14, 0, tzinfo=dt.UTC)
    decision = decisions.send(practice, patient, purpose=Purpose.APPOINTMENT_REMINDERS,
                              channel=Channel.SMS,
                              reason=Reason.APPOINTMENT,
                              values=Values(provider=osei, appointment_at=birthday_visit),
                              at=dt.datetime(2027, 3, 31, 15, 0, tzinfo=dt.UTC),
                              idempotency_key="birthday")
    assert (decision.outcome, decision.reason) == (Outcome.SENT, "")
    assert "Apr 2" in decision.delivery.body


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"\+(1[2-9]\d{9}|44\d{9,10}|\d{6,14})", fullmatch=True))
def test_a_reachable_number_is_a_valid_one_of_a_type_that_takes_the_channel(number):
    """``reachable`` reads the number's type once: valid exactly as phonenumbers judges it,
    and a text only to a type that can take texts."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        parsed = None
    valid = parsed is not None and phonenumbers.is_valid_number(parsed)
    assert decisions.reachable(number, Channel.VOICE) == valid
    assert decisions.reachable(number, Channel.SMS) == (
        valid and phonenumbers.number_type(parsed) not in decisions.NOT_TEXTABLE)


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"\+(1[2-9]\d{9}|44\d{9,10}|7\d{10}|61\d{9}|\d{6,14})",
                            fullmatch=True))
def test_a_numbers_zones_are_the_ones_phonenumbers_gives(number):
    """``zones.from_number`` reads the number's type once (the decision read it already):
    the zones are those ``time_zones_for_number`` gives, less the unknown one."""
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        assert zones.from_number(number) == []
        return
    assert zones.from_number(number) == [
        z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown"]
