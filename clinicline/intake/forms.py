"""Forms built from call types: one field per field of the type, and nothing else, so a
message keeps only what its call type may collect (anything else posted is dropped)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from clinicline.intake.service import MAX_CHARS, parse
from clinicline.intake.spec import CallType, CallTypeError, FieldSpec
from clinicline.patients.forms import PhoneField


class CalendarDateField(forms.DateField):
    """YYYY-MM-DD only, with a message that says why 1958-02-30 is refused."""

    def __init__(self, *, past: bool = False, **kwargs: Any) -> None:
        super().__init__(input_formats=["%Y-%m-%d"], **kwargs)
        self.past = past

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date | None) or value == "":
            return super().to_python(value)
        text = str(value).strip()
        try:
            return dt.datetime.strptime(text, "%Y-%m-%d").date()  # noqa: DTZ007 (a date)
        except ValueError:
            raise forms.ValidationError(
                f"“{text[:20]}” is not a date on the calendar; write it as YYYY-MM-DD.",
                code="invalid") from None

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if self.past and value is not None and value > timezone.localdate():
            raise forms.ValidationError("A date of birth cannot be in the future.",
                                        code="future")


def _field(spec: FieldSpec) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": spec.required,
                              "help_text": spec.help_text}
    match spec.kind:
        case "longtext":
            return forms.CharField(max_length=4000, widget=forms.Textarea, **common)
        case "date":
            return CalendarDateField(past=spec.past, **common)
        case "phone":
            return PhoneField(max_length=40, **common)
        case "number":
            return forms.IntegerField(min_value=0, max_value=1_000_000, error_messages={
                "invalid": "Enter a whole number, in digits (for example 5)."}, **common)
        case "choice":
            return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in spec.choices)],
                                     **common)
        case _:
            return forms.CharField(max_length=200, **common)


def form_for(call_type: CallType) -> type[forms.Form]:
    """A Form class with exactly the fields of ``call_type`` (a version's call type)."""
    attrs: dict[str, Any] = {spec.name: _field(spec) for spec in call_type.fields}
    attrs["call_type"] = call_type
    return type(f"{call_type.slug.replace('-', '_').title()}Form", (forms.Form,), attrs)


class CallTypeUploadForm(forms.Form):
    file = forms.FileField(label="Call types file (JSON or YAML)",
                           help_text="A list under call_types; each with slug, label, fields.")

    def clean_file(self) -> str:
        """The file's text, once it has passed every check a call-type file must pass."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CHARS * 4:  # four bytes per character at most
            raise forms.ValidationError(f"The file is over {MAX_CHARS // 1024} KB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        try:
            parse(text)
        except CallTypeError as exc:
            raise forms.ValidationError(exc.problems) from None
        return text
