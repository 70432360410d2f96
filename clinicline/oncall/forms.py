"""The forms of a member's contact-methods page."""

from __future__ import annotations

from typing import Any

from django import forms

from clinicline.accounts.models import User
from clinicline.oncall.contacts import MAX_DELAY_S, Kind
from clinicline.oncall.models import ContactMethod


class MethodForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=[
        (Kind.SMS, "Text message (mobile number)"), (Kind.VOICE, "Voice call (phone number)"),
        (Kind.EMAIL, "Email")])
    address = forms.CharField(label="Number or email address", max_length=254,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=12,
        error_messages={"required": "Enter the 6-digit code you were sent."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "size": 8}))


DELAYS = [(0, "at once"), (30, "after 30 s"), (60, "after 1 min"), (120, "after 2 min"),
          (180, "after 3 min"), (300, "after 5 min"), (600, "after 10 min"),
          (900, "after 15 min"), (1800, "after 30 min"), (MAX_DELAY_S, "after 1 hour")]


class MethodChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        shown = f"{obj.get_kind_display()} {obj.address}".strip()
        return shown if obj.usable else f"{shown} (not verified yet)"


class RuleForm(forms.Form):
    method = MethodChoice(queryset=ContactMethod.objects.none(), empty_label=None,
                          label="Reach me by")
    delay_s = forms.TypedChoiceField(label="When", choices=DELAYS, coerce=int)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["method"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = ContactMethod.objects.filter(user=user).order_by("kind", "pk")
