"""The template editor's form (new words for one kind, saved as a draft), and the
sending policy's (the practice's caps and hours)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms

from clinicline.outreach.decision_models import DEFAULT_PER_DAY, DEFAULT_PER_WEEK
from clinicline.outreach.kinds import Channel
from clinicline.outreach.models import MAX_BODY
from clinicline.patients.forms import TimeOfDayField, window_problems


class TemplateForm(forms.Form):
    body = forms.CharField(
        label="Words", max_length=MAX_BODY, strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "true"}),
        help_text="Slots in braces are filled in for each message; nothing else may be in "
                  "braces.")
    exempt = forms.BooleanField(
        label="Send under the healthcare exemption", required=False,
        help_text="At most 160 plain characters with the longest names, naming the practice "
                  "and its number, with \u201cReply STOP to opt out\u201d.")

    def __init__(self, channel: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel != Channel.SMS:
            del self.fields["exempt"]

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n")
        # Control characters (a NUL, a bell) have no place in a message and some carriers
        # reject the whole text; say so here rather than fail at sending.
        bad = sorted({c for c in body if unicodedata.category(c) == "Cc" and c not in "\n\t"})
        if bad:
            raise forms.ValidationError(
                "The words hold control characters (" + ", ".join(f"U+{ord(c):04X}" for c in bad)
                + "); type them again without pasting.")
        return body


# Why the caps stop where they do, said where a higher one is refused.
EXEMPTION = ("the FCC's healthcare exemption covers at most {} a {} to a patient; a higher "
             "limit would send texts and calls the exemption does not cover")
WHOLE = "Give a whole number: at least 1, at most {}."


class SendingPolicyForm(forms.Form):
    """The caps may only be lowered and the hours only narrowed (docs/sending.md)."""

    per_day = forms.IntegerField(
        label="Exempt messages a day, per patient", min_value=1,
        error_messages={"invalid": WHOLE.format(DEFAULT_PER_DAY),
                        "min_value": WHOLE.format(DEFAULT_PER_DAY)},
        widget=forms.NumberInput(attrs={"min": 1, "max": DEFAULT_PER_DAY}),
        help_text=f"At most {DEFAULT_PER_DAY}, as the exemption allows.")
    per_week = forms.IntegerField(
        label="Exempt messages a week, per patient", min_value=1,
        error_messages={"invalid": WHOLE.format(DEFAULT_PER_WEEK),
                        "min_value": WHOLE.format(DEFAULT_PER_WEEK)},
        widget=forms.NumberInput(attrs={"min": 1, "max": DEFAULT_PER_WEEK}),
        help_text=f"1 to {DEFAULT_PER_WEEK}, in any 7 days.")
    window_start = TimeOfDayField(label="Send no earlier than",
                                  help_text="08:00 or later, the patient's local time")
    window_end = TimeOfDayField(label="Send no later than",
                                help_text="21:00 or earlier, the patient's local time")

    def clean_per_day(self) -> int:
        return _capped(self.cleaned_data["per_day"], DEFAULT_PER_DAY, "day")

    def clean_per_week(self) -> int:
        return _capped(self.cleaned_data["per_week"], DEFAULT_PER_WEEK, "week")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field, problem in window_problems(data.get("window_start"), data.get("window_end")):
            self.add_error(field, problem)
        return data


def _capped(value: int, most: int, per: str) -> int:
    if value > most:
        raise forms.ValidationError(
            f"At most {most}: " + EXEMPTION.format(most, per) + ".")
    return value
