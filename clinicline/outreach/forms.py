"""The template editor's form: new words for one kind, saved as a draft."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms

from clinicline.outreach.kinds import Channel
from clinicline.outreach.models import MAX_BODY


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
