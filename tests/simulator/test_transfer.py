"""A live transfer in the simulator: the urgent caller's phone waits on the dial while the
provider's virtual phone hears the whisper, enters the PIN and presses 1; then the two are
connected and the page is acknowledged. A provider who hangs up on the whisper leaves the
caller with the truthful callback promise."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from clinicline.oncall.models import Page, PageEvent
from clinicline.simulator import calls, history
from tests.intake.test_live_transfer import PIN, PROVIDER_PHONE, offered, provider  # noqa: F401
from tests.simulator.test_calls import PATIENT_PHONE, account, data_dir  # noqa: F401 (fixtures)

# The practice offers live transfer; the provider on call has a voice number and a PIN.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offered")]

AFTER_HOURS = dt.datetime(2026, 12, 5, 2, 10, tzinfo=zoneinfo.ZoneInfo("America/New_York"))


def on_the_line(practice, number: str) -> history.LiveCall:
    call = history.current_call(practice, history.number_index(practice.pk, number))
    assert call is not None, f"{number} is on no call"
    return call


def said(answer) -> str:
    return " ".join(step.text for step in answer.steps if step.text)


def urgent_caller_waits_on_the_transfer(practice, account):  # noqa: ANN201, F811
    calls.call_practice(account, PATIENT_PHONE)
    calls.press_keys(account, PATIENT_PHONE, on_the_line(practice, PATIENT_PHONE), "1")
    calls.press_keys(account, PATIENT_PHONE, on_the_line(practice, PATIENT_PHONE),
                     "6175550142#")
    left = calls.leave_voicemail(account, PATIENT_PHONE, on_the_line(practice, PATIENT_PHONE),
                                 "Chest pain since an hour ago.")
    assert "Please hold while I try to connect you" in said(left.answer)
    assert left.answer.whisper and left.answer.dialled == PROVIDER_PHONE
    # The provider's phone picks up: it hears the whisper, the caller keeps waiting.
    whisper = calls.dial_ended(account, PATIENT_PHONE, on_the_line(practice, PATIENT_PHONE),
                               answered=True)
    assert "PIN" in said(whisper) and "6 1 7" not in said(whisper)
    assert on_the_line(practice, PATIENT_PHONE).answer.dial is not None
    return on_the_line(practice, PROVIDER_PHONE)


def test_the_provider_takes_the_call_on_their_own_phone(practice, account, provider,  # noqa: F811
                                                         data_dir):  # noqa: F811
    with time_machine.travel(AFTER_HOURS, tick=True):
        leg = urgent_caller_waits_on_the_transfer(practice, account)
        accept = calls.press_keys(account, PROVIDER_PHONE, leg, PIN + "#")
        assert "Press 1 to be connected to the caller." in said(accept)
        calls.press_keys(account, PROVIDER_PHONE, on_the_line(practice, PROVIDER_PHONE), "1")

    page = Page.objects.get()
    assert (page.state, page.acknowledged_by) == (Page.State.ACKNOWLEDGED, provider)
    assert page.events.get(kind=PageEvent.Kind.ACKNOWLEDGED).channel == "transfer"
    caller = history.events(practice, history.number_index(practice.pk, PATIENT_PHONE), 50)
    assert any(e.body == "the provider took the call" for e in caller)
    # The caller's dial ended as connected: the IVR said goodbye, and neither phone is on
    # a call any more.
    for number in (PATIENT_PHONE, PROVIDER_PHONE):
        assert history.current_call(practice, history.number_index(practice.pk, number)) is None


def test_a_provider_who_hangs_up_leaves_the_caller_a_true_promise(practice, account,  # noqa: F811
                                                                  provider, data_dir):  # noqa: F811
    with time_machine.travel(AFTER_HOURS, tick=True):
        leg = urgent_caller_waits_on_the_transfer(practice, account)
        calls.hang_up(account, PROVIDER_PHONE, leg)

    caller = history.events(practice, history.number_index(practice.pk, PATIENT_PHONE), 50)
    assert any(e.body == "the other line hung up" for e in caller)
    answers = [history.answer_of(e) for e in caller if e.kind == history.SAY]
    last = next(a for a in answers if a is not None)
    assert "could not be reached" in said(last)
    assert f"within {practice.urgent_callback_minutes} minutes" in said(last)
    assert Page.objects.get().state == Page.State.OPEN  # escalation goes on

