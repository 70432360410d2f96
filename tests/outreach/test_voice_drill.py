"""The shared drill callback-voicemail, through the real pipeline: the nurse asks to tell
Marcus Bell his results are ready by phone → the sending decision (his verified phone,
and his consent to a voicemail about results: no call consent, so the call is decided on
voicemail) → the outbox → the loopback carrier → the simulator lets the answering machine
take it → the voicemail script is left.

Every expectation of the YAML is checked, the secrets in what was sent, what the phone
heard, and every stored column of every table (what a copy of the database holds)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
import yaml
from django.db import connection
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.gateways.models import InboundWebhook
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status
from clinicline.outreach import results
from clinicline.outreach.voice_models import CallOutcome, OutreachCall
from clinicline.patients import consent
from clinicline.patients import service as patients
from clinicline.patients.models import Channel, ContactPoint, Patient, Purpose, Source
from clinicline.practices.models import Practice, Provider
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import make_member, make_patient
from tests.outreach.voice_support import pick_up, said
from tests.shared import SCENARIOS
from tests.simulator.test_calls import account  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
DRILL = yaml.safe_load((SCENARIOS / "callback-voicemail.yaml").read_text())
MARCUS_MOBILE = "+16175550177"
SHORT = 5  # needles this short may occur by chance in random ciphertext


def marcus(practice: Practice, nurse: object) -> Patient:
    request = DRILL["request"]
    given, family = request["patient_name"].split()
    patient = make_patient(practice, given, family, dob=dt.date(1971, 6, 9), phone="",
                           mrn="RFM-197106")
    patients.add_contact(patient, ContactPoint.Kind.PHONE, MARCUS_MOBILE, label="mobile",
                         verified_at=timezone.now())
    if request["patient_consents_to_voicemail"]:
        # The note the nurse wrote is sealed like any PHI: it names his medicine.
        consent.record(patient, channel=Channel.VOICEMAIL, purpose=Purpose.RESULTS_READY,
                       granted=True, source=Source.VERBAL, by=nurse,
                       evidence=f"{given} {family} (on lisinopril) said voicemails about "
                                "results are fine")
    return patient


def stored_text() -> str:
    """Every value of every column of every table, as stored (ciphertext stays ciphertext)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(found)


def test_the_callback_voicemail_drill(practice, account):  # noqa: F811
    request, expect = DRILL["request"], DRILL["expect"]
    when = dt.datetime.fromisoformat(DRILL["when"]).replace(tzinfo=practice.tz)
    with time_machine.travel(when, tick=True):
        nurse = make_member(practice, Role.NURSE, "nurse")
        provider = Provider.objects.create(practice=practice, display_name=request["provider"])
        patient = marcus(practice, nurse)
        asked = results.request(practice, patient, by=nurse, channel=request["channel"],
                                provider=provider)
        assert (asked.decision.outcome, asked.decision.channel) == ("sent", "voicemail")
        assert outbox.send_due() == 1
        assert request["patient_answers_call"] is False
        heard = said(pick_up(account, human=False, number=MARCUS_MOBILE))

    for phrase in expect["script_contains"]:
        assert phrase in heard
    call = OutreachCall.objects.get()
    assert call.outcome == CallOutcome.VOICEMAIL and call.results_link == asked.link
    assert asked.decision.delivery == call.delivery
    sent = Delivery.objects.filter(status__in=[Status.SENT, Status.DELIVERED])
    assert sent.count() == expect["sent"]
    # Anything sent: the deliveries, what the phone heard, what the webhooks answered.
    outgoing = [d.body for d in Delivery.objects.all()] + [
        e.body for e in SimulatorEvent.objects.all()] + [
        w.response for w in InboundWebhook.objects.all()]
    assert any(expect["script_contains"][0] in text for text in outgoing)
    stored = stored_text()
    assert "Riverside Family Medicine" in stored  # the search reads real rows
    assert at_rest("Dr. Amara Osei", stored) and at_rest("Bell", '{"family": "Bell"}')
    for secret in expect["secrets"]:
        assert not any(secret in text for text in outgoing), secret
        assert not at_rest(secret, stored), secret


def at_rest(secret: str, stored: str) -> bool:
    """Whether ``secret`` is stored in plain text. A needle this short ("Bell", "1971") turns
    up by chance inside base64 ciphertext now and then, so it counts only standing on its
    own, as plain text stores it (a name beside a space, a quote, a comma)."""
    if len(secret) > SHORT:
        return secret in stored
    return re.search(rf"(?<![A-Za-z0-9+/_-]){re.escape(secret)}(?![A-Za-z0-9+/=_-])",
                     stored) is not None
