"""Forms built from call types: one field per field of the type, and nothing else, so a
message keeps only what its call type may collect (anything else posted is dropped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone

from clinicline.intake import scripts
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


def uploaded_text(upload: Any, max_chars: int) -> str:
    """An uploaded document's text: UTF-8, at most ``max_chars``."""
    if upload.size > max_chars * 4:  # four bytes per character at most
        raise forms.ValidationError(f"The file is over {max_chars // 1024} KB.")
    try:
        return str(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise forms.ValidationError("The file is not UTF-8 text.") from None


class CallTypeUploadForm(forms.Form):
    file = forms.FileField(label="Call types file (JSON or YAML)",
                           help_text="A list under call_types; each with slug, label, fields.")

    def clean_file(self) -> str:
        """The file's text, once it has passed every check a call-type file must pass."""
        text = uploaded_text(self.cleaned_data["file"], MAX_CHARS)
        try:
            parse(text)
        except CallTypeError as exc:
            raise forms.ValidationError(exc.problems) from None
        return text


class ScriptsForm(forms.Form):
    """The practice's scripts as fields: one per moment and language, each checked as the
    document checks it (its slots, its length, the emergency line's 911), then the whole
    as a new version would be."""

    def __init__(self, current: Mapping[str, Any], data: Any = None) -> None:
        super().__init__(data)
        self.current = current
        for name, key in scripts.KEYS.items():
            for code in current["languages"]:
                self.fields[field_name(name, code)] = forms.CharField(
                    label=f"{key.where} ({scripts.LANGUAGES[code].name})",
                    max_length=scripts.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}),
                    initial=current["scripts"][name].get(code, ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, value in list(cleaned.items()):
            name = field.partition(".")[0]
            for problem in scripts.text_problems(name, " ".join(str(value).split())):
                self.add_error(field, problem)
        if not self.errors:
            self.source = scripts.dump({
                "languages": self.current["languages"],
                "scripts": {name: {code: " ".join(cleaned[field_name(name, code)].split())
                                   for code in self.current["languages"]}
                            for name in scripts.KEYS},
                "labels": self.current.get("labels", {})})
            try:
                self.document = scripts.parse(self.source)
            except scripts.ScriptError as exc:  # what no single field shows
                for refused in exc.problems:
                    self.add_error(None, refused.message)
        return cleaned

    def rows(self) -> list[tuple[str, scripts.Key, list[forms.BoundField]]]:
        """Each moment with its fields, one per language, for the editor's table."""
        return [(name, key, [self[field_name(name, code)] for code in self.current["languages"]])
                for name, key in scripts.KEYS.items()]


def field_name(name: str, code: str) -> str:
    return f"{name}.{code}"


class ScriptsUploadForm(forms.Form):
    file = forms.FileField(label="Scripts file (YAML)",
                           help_text="Download the current version, edit it, upload it back.")

    def clean_file(self) -> str:
        """The file's text, once it has passed every check a scripts document must pass."""
        text = uploaded_text(self.cleaned_data["file"], scripts.MAX_CHARS)
        try:
            scripts.parse(text)
        except scripts.ScriptError as exc:
            raise forms.ValidationError([str(p) for p in exc.problems]) from None
        return text
