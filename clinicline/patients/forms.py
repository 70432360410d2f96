import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone

from clinicline.patients.models import (
    QUIET_EARLIEST,
    QUIET_LATEST,
    STAFF_SOURCES,
    Channel,
    ContactPreference,
    Language,
    Patient,
    Purpose,
    Source,
)
from clinicline.patients.normalize import InvalidPhone, phone_e164

# The zones a practice's patients live in, most often; the patient page offers these.
TIME_ZONES = [(z, z) for z in (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico")]


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


# --- consent and preferences -----------------------------------------------------------------

DECISIONS = [("granted", "Granted"), ("revoked", "Revoked")]
STAFF_SOURCE_CHOICES = [(s.value, s.label.capitalize()) for s in Source if s in STAFF_SOURCES]
EVIDENCE_MAX = 1000


def _earliest_possible() -> dt.datetime:
    return timezone.make_aware(dt.datetime(1990, 1, 1))


class ConsentForm(forms.Form):
    """One decision, as a member of staff heard or read it. Who recorded it is the member."""

    channel = forms.ChoiceField(choices=Channel.choices)
    purpose = forms.ChoiceField(choices=Purpose.choices)
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect, initial="granted")
    detail_allowed = forms.BooleanField(
        required=False, label="Non-secure request: the patient asked for details on this "
        "channel anyway, after being told it is not secure")
    source = forms.ChoiceField(choices=STAFF_SOURCE_CHOICES, initial=Source.VERBAL)
    evidence = forms.CharField(
        required=False, max_length=EVIDENCE_MAX, label="Evidence note",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="what the patient said or signed, and where the paper is kept")
    at = forms.DateTimeField(required=False, label="Took effect (empty: now)",
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, purposes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["purpose"])
        field.choices = [(v, label) for v, label in Purpose.choices if v in purposes]

    def clean_at(self) -> dt.datetime | None:
        at = self.cleaned_data["at"]
        if at is not None and at < _earliest_possible():
            raise forms.ValidationError("That date is too long ago for this ledger.")
        return at

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("detail_allowed") and not data.get("evidence", "").strip():
            self.add_error("evidence", "Note what the patient asked for and that they were "
                                       "told the channel is not secure.")
        return data

    def entry_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"channel": data["channel"], "purpose": data["purpose"],
                "granted": data["decision"] == "granted", "source": data["source"],
                "detail_allowed": data["detail_allowed"], "evidence": data["evidence"],
                "at": data["at"]}


class TimeOfDayField(forms.TimeField):
    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def window_problems(start: dt.time | None, end: dt.time | None) -> list[tuple[str, str]]:
    """What is wrong with contact hours, by field: they may only narrow 08:00-21:00 (in the
    patient's time zone), and must close after they open. A patient's and a practice's."""
    problems = []
    if start is not None and start < QUIET_EARLIEST:
        problems.append(("window_start", "Messages never go out before 08:00 in the "
                                         "patient's time zone: the hours may only narrow."))
    if end is not None and end > QUIET_LATEST:
        problems.append(("window_end", "Messages never go out after 21:00 in the patient's "
                                       "time zone: the hours may only narrow."))
    if start is not None and end is not None and end <= start:
        problems.append(("window_end", "The hours must close after they open (the latest "
                                       "time must be after the earliest)."))
    return problems


class PreferenceForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        required=False, choices=[("", "no preference"), *Channel.choices])
    only_preferred = forms.BooleanField(required=False,
                                        label='Use no other channel ("email only")')
    do_not_leave_voicemail = forms.BooleanField(required=False,
                                                label="Do not leave voicemail")
    language = forms.ChoiceField(choices=Language.choices, initial=Language.EN, required=False,
                                 label="Language for messages and calls")
    window_start = TimeOfDayField(required=False, label="Contact no earlier than",
                                  help_text="08:00 or later")
    window_end = TimeOfDayField(required=False, label="Contact no later than",
                                help_text="21:00 or earlier")
    time_zone = forms.ChoiceField(required=False, label="Patient's time zone",
                                  choices=[("", "the practice's"), *TIME_ZONES])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for field, problem in window_problems(data.get("window_start"), data.get("window_end")):
            self.add_error(field, problem)
        data["language"] = data.get("language") or Language.EN  # unasked: English
        if data.get("only_preferred") and not data.get("preferred_channel"):
            self.add_error("preferred_channel", "Choose the one channel to use.")
        return data

    @classmethod
    def initial_for(cls, pref: ContactPreference) -> dict[str, Any]:
        return {name: getattr(pref, name) for name in cls.base_fields}


class OnboardingConsentForm(forms.Form):
    """The consent questions asked when a patient is registered."""

    asked = forms.BooleanField(required=False, label="The patient answered these questions")
    channels = forms.MultipleChoiceField(
        required=False, choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
        label="Channels the patient agrees to")
    purposes = forms.MultipleChoiceField(
        required=False, choices=[c for c in Purpose.choices if c[0] != Purpose.ALL],
        widget=forms.CheckboxSelectMultiple, label="For")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("channels") and not data.get("purposes"):
            self.add_error("purposes", "Tick what the patient agreed to be contacted about.")
        if (data.get("channels") or data.get("purposes")) and not data.get("asked"):
            self.add_error("asked", "Tick this once the patient has answered.")
        return data
