"""Bad input on a call form: a clear message on the field, and nothing but the type's own
fields ever comes out of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicline.intake.forms import form_for

REFILL = {"patient_name": "Marcus Bell", "date_of_birth": "1971-11-19",
          "callback_number": "(202) 555-0173", "medication": "lisinopril 20 mg",
          "pharmacy": "Walgreens on Main Street", "days_left": "5"}


def refill_form(defaults, **changes: object):  # noqa: ANN201
    return form_for(defaults["refill"])(data={**REFILL, **changes})


def test_a_good_refill_is_clean_and_the_number_is_e164(defaults):
    form = refill_form(defaults)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["callback_number"] == "+12025550173"


@pytest.mark.parametrize("name", ["patient_name", "date_of_birth", "callback_number",
                                  "medication", "pharmacy", "days_left"])
def test_a_missing_required_field_is_named(defaults, name):
    data = {k: v for k, v in REFILL.items() if k != name}
    form = form_for(defaults["refill"])(data=data)
    assert not form.is_valid()
    assert form.errors[name] == ["This field is required."]


@pytest.mark.parametrize("value", ["1958-02-30", "1971-13-01", "19/11/1971", "yesterday"])
def test_an_impossible_date_is_refused(defaults, value):
    form = refill_form(defaults, date_of_birth=value)
    assert not form.is_valid()
    assert "is not a date on the calendar; write it as YYYY-MM-DD" in form.errors[
        "date_of_birth"][0]


def test_a_birth_date_in_the_future_is_refused(defaults):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form = refill_form(defaults, date_of_birth=tomorrow.isoformat())
    assert not form.is_valid()
    assert form.errors["date_of_birth"] == ["A date of birth cannot be in the future."]


def test_a_birth_date_today_is_fine(defaults):
    assert refill_form(defaults, date_of_birth=timezone.localdate().isoformat()).is_valid()


@pytest.mark.parametrize("value", ["call me", "555-01", "+1 000 000 0000"])
def test_an_unparseable_phone_number_is_refused(defaults, value):
    form = refill_form(defaults, callback_number=value)
    assert not form.is_valid()
    assert "Give it with the area code." in form.errors["callback_number"][0]


@pytest.mark.parametrize("value", ["five", "5.5", "-1"])
def test_days_left_must_be_a_whole_number(defaults, value):
    form = refill_form(defaults, days_left=value)
    assert not form.is_valid()
    assert form.errors["days_left"]


def test_non_numeric_days_left_says_so(defaults):
    form = refill_form(defaults, days_left="five")
    assert form.errors["days_left"] == ["Enter a whole number, in digits (for example 5)."]


def test_fields_of_other_types_are_dropped(defaults):
    form = form_for(defaults["billing"])(data={
        "patient_name": "Dolores Whitfield", "callback_number": "+17735550123",
        "account_number": "ACCT-448213", "question": "Charged twice.",
        "concern": "chest pain", "date_of_birth": "1950-01-01", "ssn": "123-45-6789"})
    assert form.is_valid(), form.errors
    assert set(form.cleaned_data) == {"patient_name", "callback_number", "account_number",
                                      "question"}


def test_the_form_knows_its_call_type(defaults):
    assert form_for(defaults["refill"]).call_type is defaults["refill"]
