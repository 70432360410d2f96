"""The forms of a member's contact-methods page."""

from __future__ import annotations

from typing import Any

from django import forms

from clinicline.accounts.models import User
from clinicline.oncall.contacts import MAX_DELAY_S, PIN_DIGITS, Kind, pin_problem
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


def pin_field(label: str) -> forms.CharField:
    # A password input: the digits are not left on screen, and browsers offer no autofill.
    return forms.CharField(label=label, max_length=PIN_DIGITS[-1], strip=True,
                           error_messages={"required": "Enter the PIN twice."},
                           widget=forms.PasswordInput(attrs={
                               "autocomplete": "new-password", "inputmode": "numeric",
                               "size": 10}))


class VoicePinForm(forms.Form):
    """A new voice PIN, typed twice; refused when it is easy to guess."""

    pin = pin_field("New voice PIN (4 to 8 digits)")
    pin_again = pin_field("The same PIN again")

    def clean_pin(self) -> str:
        pin = str(self.cleaned_data["pin"])
        problem = pin_problem(pin)
        if problem:
            raise forms.ValidationError(problem)
        return pin

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "pin" in cleaned and cleaned.get("pin_again") != cleaned["pin"]:
            self.add_error("pin_again", "The two PINs are not the same.")
        return cleaned


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
