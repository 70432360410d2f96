"""The phone simulator's forms: what a virtual phone's page lets a member type."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django import forms

from clinicline.patients.forms import PhoneField
from clinicline.simulator.carrier import SimulationRefused

KEYS = re.compile(r"[0-9*#]{1,20}")


class OpenForm(forms.Form):
    number = PhoneField(label="Open another phone", max_length=32,
                        error_messages={"required": "Type a phone number to open."})

    def __init__(self, *args: Any, practice_number: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_number = practice_number

    def clean_number(self) -> str:
        number = str(self.cleaned_data["number"])
        if number == self.practice_number:
            raise forms.ValidationError("That is the practice's own number; open a phone that "
                                        "calls it.")
        return number


class TextForm(forms.Form):
    body = forms.CharField(label="Send a text to the practice", max_length=1600,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Type a message to send."})


class KeysForm(forms.Form):
    key = forms.CharField(required=False, max_length=1)
    digits = forms.CharField(label="Or type several keys", required=False, max_length=20)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        keys = (data.get("digits") or data.get("key") or "").strip()
        if not KEYS.fullmatch(keys):
            raise forms.ValidationError("Keys are 0–9, * and # (up to 20 at a time).")
        data["keys"] = keys
        return data


class VoicemailForm(forms.Form):
    words = forms.CharField(label="Leave a voicemail", max_length=1000,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            error_messages={"required": "Type what the caller says."})
    hang_up = forms.BooleanField(label="Hang up at the end instead of pressing #",
                                 required=False)


F = TypeVar("F", bound=forms.Form)


def valid(form: F) -> F:
    """The form, or a 400 naming what is wrong (nothing has been sent yet)."""
    if not form.is_valid():
        raise SimulationRefused(400, " ".join(str(e) for errs in form.errors.values()
                                                for e in errs))
    return form
