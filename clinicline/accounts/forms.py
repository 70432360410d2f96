from django import forms
from django.contrib.auth.forms import AuthenticationForm

from clinicline.accounts.models import BreakGlassGrant
from clinicline.accounts.roles import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. After repeated failures "
                         "the account is locked for a while.",
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app (or a recovery code)", max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "inputmode": "numeric"}),
    )


class ReauthForm(CodeForm):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["password", "code"]


class BreakGlassForm(forms.Form):
    reason = forms.ChoiceField(choices=BreakGlassGrant.Reason.choices)
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), min_length=10, max_length=500,
        help_text="Why you need this record now. Do not write the patient's name, dates or "
                  "numbers: this goes into the audit trail.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class AddMemberForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, help_text="The invitation to set a password "
                                                       "goes here; only they can open it.")
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z", max_length=150, help_text="What they sign in with: letters, "
        "digits and . @ + - _ only.",
        error_messages={"invalid": "A username has only letters, digits and . @ + - _."})
    role = forms.ChoiceField(choices=Role.choices)
