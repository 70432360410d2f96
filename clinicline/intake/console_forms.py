"""Forms of the agent console: the triage questions of a call type, and a return caller's
identity. The call type's own fields come from ``intake.forms.form_for``."""

from __future__ import annotations

from typing import Any

from django import forms

from clinicline.intake.forms import CalendarDateField
from clinicline.intake.identity import Claim
from clinicline.patients.forms import PhoneField
from clinicline.triage.engine import questions_for
from clinicline.triage.spec import ProtocolSpec, Question

YES_NO = [("yes", "Yes"), ("no", "No")]


def no_autofill(form: forms.Form) -> forms.Form:
    """A shared console must not offer one caller's details to the next."""
    for field in form.fields.values():
        field.widget.attrs.setdefault("autocomplete", "off")
    return form


class TriageForm(forms.Form):
    """Yes or no to every question the protocol asks for this call type. A follow-up must be
    answered only when the question it follows is yes; otherwise its answer is dropped."""

    prefix = "t"

    def __init__(self, spec: ProtocolSpec, call_type: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec, self.call_type = spec, call_type
        self.answers: dict[str, bool] = {}
        # Every question that could be asked: follow-ups appear when their parent is yes.
        self.all_questions = questions_for(spec, call_type, {q.id: True for q in spec.questions})
        for question in self.all_questions:
            self.fields[question.id] = forms.ChoiceField(
                label=question.text, choices=YES_NO, widget=forms.RadioSelect, required=False)

    def questions(self) -> list[tuple[forms.BoundField, Question]]:
        return [(self[q.id], q) for q in self.all_questions]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # Form.clean returns cleaned_data, never None
        given = {q: value == "yes" for q, value in data.items() if value}
        asked = questions_for(self.spec, self.call_type, given)
        for question in asked:
            if question.id not in given:
                self.add_error(question.id, "Ask this question: answer yes or no.")
        self.answers = {q.id: given[q.id] for q in asked if q.id in given}
        return data


class ReturnCallForm(forms.Form):
    """Who the caller says they are: name, date of birth and one more factor on file."""

    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = CalendarDateField(label="Date of birth", past=True, help_text="YYYY-MM-DD")
    phone = PhoneField(label="A phone number on file", max_length=40, required=False)
    mrn = forms.CharField(label="or the medical record number (MRN)", max_length=40,
                          required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        no_autofill(self)
        self.fields["given_name"].widget.attrs["autofocus"] = True  # each check starts here

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # Form.clean returns cleaned_data, never None
        if not data.get("phone") and not (data.get("mrn") or "").strip() \
                and "phone" not in self.errors:
            raise forms.ValidationError(
                "Ask for one more thing the practice has on file: a phone number or the MRN.",
                code="factor")
        return data

    def claim(self) -> Claim:
        data = self.cleaned_data
        return Claim(given_name=data["given_name"], family_name=data["family_name"],
                     date_of_birth=data["date_of_birth"], phone=data.get("phone") or "",
                     mrn=(data.get("mrn") or "").strip())
