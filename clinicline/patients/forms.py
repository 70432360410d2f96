import datetime as dt
from typing import Any

from django import forms

from clinicline.patients.models import Patient
from clinicline.patients.normalize import InvalidPhone, phone_e164


class PhoneField(forms.CharField):
    """Any way a caller says a number; stored as E.164."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        if not text:
            return text
        try:
            return phone_e164(text)
        except InvalidPhone as exc:
            raise forms.ValidationError(f"{exc} Give it with the area code.",
                                        code="invalid") from None


class SearchForm(forms.Form):
    phone = PhoneField(required=False, label="Phone number")
    given_name = forms.CharField(required=False, label="First name")
    family_name = forms.CharField(required=False, label="Last name")
    date_of_birth = forms.DateField(required=False, label="Date of birth (YYYY-MM-DD)")
    mrn = forms.CharField(required=False, label="MRN")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        by_name = data.get("given_name") and data.get("family_name") and data.get("date_of_birth")
        if not self.errors and not (data.get("phone") or data.get("mrn") or by_name):
            raise forms.ValidationError(
                "Search by phone number, by MRN, or by first name, last name and date of birth "
                "together.")
        return data


class PatientForm(forms.Form):
    given_name = forms.CharField(max_length=100, label="First name")
    family_name = forms.CharField(max_length=100, label="Last name")
    date_of_birth = forms.DateField(label="Date of birth (YYYY-MM-DD)")
    mrn = forms.CharField(max_length=40, required=False, label="MRN")
    street = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=40, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    restricted = forms.BooleanField(required=False, help_text="only clinical roles may open it")

    ADDRESS = ("street", "city", "state", "postal_code")

    def clean_date_of_birth(self) -> dt.date:
        dob = self.cleaned_data["date_of_birth"]
        if dob > dt.date.today() or dob.year < 1880:
            raise forms.ValidationError("That date of birth is not possible.")
        return dob

    def patient_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        address = {k: data[k] for k in self.ADDRESS if data.get(k)}
        return {"given_name": data["given_name"].strip(),
                "family_name": data["family_name"].strip(),
                "date_of_birth": data["date_of_birth"], "mrn": data["mrn"].strip(),
                "address": address or None, "restricted": data["restricted"]}

    @classmethod
    def initial_for(cls, patient: Patient) -> dict[str, Any]:
        return {"given_name": patient.given_name, "family_name": patient.family_name,
                "date_of_birth": patient.date_of_birth, "mrn": patient.mrn,
                "restricted": patient.restricted, **(patient.address or {})}


class PhoneForm(forms.Form):
    phone = PhoneField(label="Phone number")
    label = forms.ChoiceField(choices=[("mobile", "mobile"), ("home", "home"), ("work", "work")])
