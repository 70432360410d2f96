"""`clinicline drill`: the shared scenarios through the real pipeline in the demo practice,
each rolled back; a false expectation fails by name; a broken file is refused with its key;
a live carrier, a missing practice or a missing scenarios folder stop it before it runs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicline.demo.seed import create_demo
from clinicline.inbox.models import Message
from clinicline.oncall.models import Page
from clinicline.outbox.models import Delivery
from clinicline.patients.models import Patient
from clinicline.practices.models import GatewayAccount
from tests.shared import SCENARIOS

pytestmark = pytest.mark.django_db
HEARD = '  script_contains: ["Dr. Amara Osei", "results"]\n'  # callback-voicemail's


@pytest.fixture
def demo(settings):
    settings.SHARED_DIR = SCENARIOS.parent
    return create_demo()


def drill(*args: str) -> str:
    out = io.StringIO()
    call_command("drill", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> tuple[int, str, str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("drill", *args, stdout=out)
    return caught.value.returncode, str(caught.value), out.getvalue()


def edited(tmp_path: Path, name: str, old: str, new: str) -> str:
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def test_every_shared_scenario_passes_and_leaves_nothing_behind(demo):
    before = (Message.objects.count(), Patient.objects.count(), Delivery.objects.count())
    out = drill()
    names = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert len(names) == 8
    for name in names:
        assert f"PASS {name}:" in out
    assert "FAIL" not in out
    assert "PASS first_page_within_s: expected 2, measured 0." in out
    assert "PASS withheld_reason: expected opted-out, measured [opted-out]" in out
    assert (Message.objects.count(), Patient.objects.count(),
            Delivery.objects.count()) == before
    assert not Page.objects.exists()


def test_a_false_expectation_fails_with_exit_1_and_names_it(demo, tmp_path):
    path = edited(tmp_path, "billing-dispute.yaml", "priority: routine", "priority: urgent")
    code, message, out = refused("--file", path)
    assert code == 1 and "billing-dispute" in message
    assert "FAIL billing-dispute:" in out
    assert "FAIL priority: expected urgent, measured routine" in out
    assert "PASS routed_to: expected billing, measured billing" in out


def test_a_leaked_secret_fails(demo, tmp_path):
    # The practice's own name is in every text it sends: as a "secret" it must be found.
    path = edited(tmp_path, "reminder-stop.yaml", "secrets: [Priya, Raman]",
                  "secrets: [Priya, Riverside Family Medicine]")
    code, _, out = refused("--file", path)
    assert code == 1
    assert "FAIL secrets:" in out and "Riverside Family Medicine sent" in out


def test_nobody_acknowledging_alarms_and_the_waits_are_jumped(demo, tmp_path):
    path = Path(edited(tmp_path, "urgent-clinical.yaml", "provider_acks_after_s: 20",
                       "provider_acks_after_s: null"))
    path.write_text(path.read_text().replace("escalated: true",
                                             "escalated: true\n  alarm_if_no_ack: true"))
    out = drill("--file", str(path))
    assert "PASS alarm_if_no_ack: expected true, measured true" in out
    assert "note: page alarmed" in out
    assert "waits jumped over, not slept" in out


def test_an_acknowledged_page_does_not_alarm(demo, tmp_path):
    path = edited(tmp_path, "urgent-clinical.yaml", "escalated: true",
                  "escalated: true\n  alarm_if_no_ack: true")
    code, _, out = refused("--file", path)
    assert code == 1
    assert "FAIL alarm_if_no_ack: expected true, measured false" in out


def test_a_practice_that_never_took_a_call_shows_no_leak_of_its_own_protocol(practice,
                                                                            settings,
                                                                            tmp_path):
    """Its shipped protocol and scripts are written before the baseline, not by the drill's
    call: their words ("short of breath") are the practice's, not a leak."""
    settings.SHARED_DIR = SCENARIOS.parent
    path = edited(tmp_path, "urgent-clinical.yaml", "  first_page_within_s: 2\n", "")  # no on-call
    out = drill("--practice", practice.slug, "--file", path)
    assert "PASS urgent-clinical:" in out
    assert "PASS secrets: expected [Walter, Okafor, 1958, surgery, calf, breath], measured " \
           "none sent, none in plain text" in out


def unsent_results(tmp_path: Path, old: str, new: str, reason: str) -> str:
    """callback-voicemail with ``old`` made ``new``, expecting nothing sent, for ``reason``."""
    path = Path(edited(tmp_path, "callback-voicemail.yaml", old, new))
    path.write_text(path.read_text().replace(HEARD, "").replace(
        "sent: 1", f"sent: 0\n  withheld: 1\n  withheld_reason: {reason}"))
    out = drill("--file", str(path))
    assert "PASS sent: expected 0, measured 0" in out
    return out


def test_a_results_call_without_consent_is_withheld_by_the_sending_decision(demo, tmp_path):
    out = unsent_results(tmp_path, "patient_consents_to_voicemail: true",
                         "patient_consents_to_voicemail: false", "no-consent")
    assert "PASS withheld_reason: expected no-consent, measured [no-consent]" in out


def test_a_results_call_at_night_waits_for_quiet_hours_to_end(demo, tmp_path):
    out = unsent_results(tmp_path, '"2026-12-08T14:00"', '"2026-12-08T22:30"', "quiet-hours")
    assert "PASS withheld_reason: expected quiet-hours, measured [quiet-hours]" in out


def test_json_prints_one_object_per_scenario(demo):
    out = drill("--json", "--file", str(SCENARIOS / "urgent-clinical.yaml"),
                "--file", str(SCENARIOS / "return-call-unverified.yaml"))
    reports = [json.loads(line) for line in out.splitlines()]
    assert [r["scenario"] for r in reports] == ["urgent-clinical", "return-call-unverified"]
    assert all(r["passed"] for r in reports)
    first = {c["key"]: c for c in reports[0]["checks"]}
    assert first["priority"]["measured"] == "emergency"
    assert 0 <= first["first_page_within_s"]["measured"] <= 2
    assert reports[0]["timings"]["first_page_s"] <= 2


def test_a_broken_file_exits_2_naming_the_file_and_key(demo, tmp_path):
    path = edited(tmp_path, "angry-patient.yaml", "escalated: false", "escalated: often")
    code, message, out = refused("--file", path)
    assert code == 2 and out == ""
    assert message == f"{path}: expect.escalated: must be true or false"


def test_a_file_that_is_not_yaml_exits_2(demo, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    code, message, _ = refused("--file", str(path))
    assert code == 2 and message.startswith(f"{path}: ") and "line" in message


def test_a_live_gateway_is_refused(demo):
    GatewayAccount.objects.filter(practice=demo).update(test_mode=False)
    code, message, out = refused()
    assert code == 2 and "live carrier account" in message and out == ""


def test_a_missing_practice_is_refused(demo):
    code, message, _ = refused("--practice", "nowhere")
    assert code == 2 and "there is no practice 'nowhere'" in message


def test_a_missing_scenarios_folder_exits_2(demo, settings, tmp_path):
    settings.SHARED_DIR = tmp_path / "absent"
    code, message, _ = refused()
    assert code == 2 and "no scenarios folder at" in message
