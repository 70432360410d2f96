"""The shared drill callback-voicemail run by the drill runner in this practice: the nurse
asks to tell Marcus Bell his results are ready by phone, the sending decision decides (his
consent is to voicemail only, so on voicemail), the outbox and the loopback carrier call,
the simulator's answering machine takes the call and the voicemail script is left, with
none of the secrets in anything sent or in plain text in any column. (A consent note
naming a medicine sealed at rest: tests/patients/test_consent.py.)
"""

from __future__ import annotations

import pytest

from clinicline.outreach.decision_models import SendDecision
from clinicline.outreach.voice_models import CallOutcome, OutreachCall
from tests.drills.support import drill, failed, measured

pytestmark = pytest.mark.django_db


def test_the_callback_voicemail_drill(practice):
    report = drill("callback-voicemail", practice)
    assert failed(report) == []
    found = measured(report)
    assert (found["sent"], found["script_contains"]) == (1, "all found")
    assert found["secrets"] == "none sent, none in plain text"
    call = OutreachCall.objects.get(practice=practice)
    assert call.outcome == CallOutcome.VOICEMAIL and call.results_link is not None
    # Placed by the sending decision: his consent is to voicemail only, so it was decided
    # on voicemail, and the decision names the call's delivery.
    decision = SendDecision.objects.get(results_link=call.results_link)
    assert (decision.outcome, decision.channel) == ("sent", "voicemail")
    assert decision.delivery_id == call.delivery_id



def test_the_drills_search_reads_the_stored_rows(practice):
    """A "secret" the drill does store in plain text (its provider's name) is found there."""
    report = drill("callback-voicemail", practice, expect={"secrets": ["Amara Osei"]})
    (check,) = failed(report)
    assert check.key == "secrets" and "Amara Osei in practices_provider" in check.measured
