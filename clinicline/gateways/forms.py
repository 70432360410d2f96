"""The practice admin's forms for the telephony gateway."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from clinicline.patients.forms import PhoneField
from clinicline.practices.models import GatewayAccount, Practice

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


class GatewayAccountForm(forms.ModelForm):
    """The practice's own Twilio account. The auth token is write-only: it is never drawn
    back into the page, and a blank field keeps the one on file. Test mode is not here:
    switching it is its own, re-authenticated step (``ModeForm``)."""

    auth_token = forms.CharField(
        required=False, max_length=128, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Twilio console → Account info. Leave blank to keep the current token.")

    class Meta:
        model = GatewayAccount
        fields = ["phone_number", "account_sid", "delete_recordings"]
        field_classes = {"phone_number": PhoneField}
        labels = {"phone_number": "Practice phone number", "account_sid": "Account SID",
                  "delete_recordings": "Delete voicemail audio from Twilio once fetched"}
        help_texts = {"account_sid": "Starts with AC, then 32 letters and digits."}
        error_messages = {"phone_number": {
            "unique": "That number is already another clinicline practice's gateway number."}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_new = self.instance._state.adding

    def clean_account_sid(self) -> str:
        sid = self.cleaned_data["account_sid"].strip()
        if not ACCOUNT_SID.match(sid):
            raise forms.ValidationError("That is not a Twilio account SID: it starts with AC, "
                                        "then 32 letters and digits.")
        return sid

    def clean_auth_token(self) -> str:
        token = self.cleaned_data["auth_token"]
        if not token and self.is_new:
            raise forms.ValidationError("Enter the account's auth token.")
        if re.search(r"\s", token):
            raise forms.ValidationError("An auth token has no spaces.")
        return token

    def changed_fields(self) -> list[str]:
        """The names of what this save changes, judged on the cleaned values ("(617)
        555-0100" is the number on file, not a change). A typed token counts when it
        differs from the one on file, which is never shown back."""
        if self.is_new:
            return [*self.Meta.fields, "auth_token"]
        changed = [name for name in self.Meta.fields
                   if self.cleaned_data[name] != self.initial.get(name)]
        token = self.cleaned_data["auth_token"]
        if token and token != self.instance.auth_token:
            changed.append("auth_token")
        return changed

    def save_for(self, practice: Practice) -> GatewayAccount:
        account = self.save(commit=False)
        account.practice = practice
        if self.cleaned_data["auth_token"]:
            account.auth_token = self.cleaned_data["auth_token"]
        account.save()
        return account


class ModeForm(forms.Form):
    mode = forms.ChoiceField(widget=forms.RadioSelect, choices=[
        ("test", "Test mode: texts and calls go to the phone simulator, never to a phone"),
        ("live", "Live: texts and calls go to patients and staff through Twilio"),
    ])
