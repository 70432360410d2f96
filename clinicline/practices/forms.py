import datetime as dt
import zoneinfo
from typing import Any

from django import forms

from clinicline.patients.forms import PhoneField
from clinicline.practices.models import BusinessAssociateAgreement, Practice, Vendor

US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
            "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"]


class PracticeSettingsForm(forms.ModelForm[Practice]):
    callback_number = PhoneField(max_length=40, help_text="the number patients are asked to call")
    front_desk_number = PhoneField(
        max_length=40, required=False,
        help_text="where the IVR forwards calls in office hours; empty: it takes messages")
    time_zone = forms.ChoiceField(choices=[(z, z) for z in US_ZONES] + [
        (z, z) for z in sorted(zoneinfo.available_timezones()) if z not in US_ZONES])

    class Meta:
        model = Practice
        fields = ["name", "name_in_messages", "time_zone", "callback_number",
                  "front_desk_number", "idle_timeout_minutes", "urgent_callback_minutes",
                  "page_clinical_after_hours", "page_remind_minutes", "page_failover_minutes",
                  "transfer_urgent_calls", "transfer_timeout_s", "message_retention_days"]


class AgreementForm(forms.ModelForm[BusinessAssociateAgreement]):
    """A signed Business Associate Agreement, as the compliance file records it."""

    vendor = forms.ModelChoiceField(queryset=Vendor.objects.order_by("name"), empty_label=None)

    class Meta:
        model = BusinessAssociateAgreement
        fields = ["vendor", "signed_on", "effective_on", "expires_on", "document_ref"]
        widgets = {name: forms.DateInput(attrs={"type": "date"})
                   for name in ("signed_on", "effective_on", "expires_on")}
        labels = {"document_ref": "Where the signed copy is kept"}

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_signed_on(self) -> dt.date:
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > self.today:
            raise forms.ValidationError("An agreement is recorded once it is signed: "
                                        "the signing date cannot be in the future.")
        return signed_on

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        effective_on, expires_on = cleaned.get("effective_on"), cleaned.get("expires_on")
        if effective_on and expires_on and expires_on < effective_on:
            self.add_error("expires_on", "The agreement cannot expire before it takes effect.")
        return cleaned
