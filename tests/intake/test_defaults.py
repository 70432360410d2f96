"""The shipped call types: minimum necessary, and every drill's call fits its type."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from clinicline.intake.forms import form_for
from tests.shared import SCENARIOS


def call_scenarios() -> list[dict]:
    found = [yaml.safe_load(p.read_text()) for p in sorted(SCENARIOS.glob("*.yaml"))]
    calls = [s for s in found if s.get("kind") == "call"]
    assert len(calls) >= 5  # the drills are there: their absence is a failure, not a skip
    return calls


@pytest.mark.parametrize("scenario", call_scenarios(), ids=lambda s: s["name"])
def test_every_drill_call_is_accepted_by_its_call_type(defaults, scenario):
    form = form_for(defaults[scenario["call_type"]])(data=scenario["fields"])
    assert form.is_valid(), form.errors
    assert set(form.cleaned_data) == set(scenario["fields"])


def test_the_ivr_refill_keeps_days_left_as_a_number(defaults):
    refill = next(s for s in call_scenarios() if s["call_type"] == "refill")
    assert refill["fields"]["days_left"] == 5  # an int in the file, not "5"
    form = form_for(defaults["refill"])(data=refill["fields"])
    assert form.is_valid(), form.errors
    assert form.cleaned_data["days_left"] == 5
    assert form.cleaned_data["date_of_birth"] == dt.date(1971, 11, 19)
    assert form.cleaned_data["callback_number"] == "+12025550173"


EXPECTED = {
    "clinical": ["patient_name", "date_of_birth", "callback_number", "concern"],
    "refill": ["patient_name", "date_of_birth", "medication", "pharmacy", "callback_number",
               "days_left"],
    "scheduling": ["patient_name", "callback_number", "preferred_times"],
    "new-patient": ["patient_name", "callback_number", "preferred_times", "insurance_carrier"],
    "billing": ["patient_name", "callback_number", "account_number", "question"],
    "complaint": ["patient_name", "callback_number", "complaint"],
    "records": ["patient_name", "date_of_birth", "callback_number", "request"],
    "other": ["patient_name", "callback_number", "message"],
}


def test_the_defaults_collect_exactly_the_minimum_necessary(defaults):
    assert {slug: t.field_names() for slug, t in defaults.items()} == EXPECTED


def test_a_billing_call_collects_nothing_clinical(defaults):
    names = set(defaults["billing"].field_names())
    assert not names & {"date_of_birth", "concern", "medication", "pharmacy", "days_left"}


def test_every_default_field_says_whether_it_is_phi(defaults):
    assert defaults["clinical"].fields[0].phi is True  # the patient's name
    assert not next(f for f in defaults["scheduling"].fields
                    if f.name == "preferred_times").phi
