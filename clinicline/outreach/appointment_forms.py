"""The forms of the appointment pages: the CSV upload and the practice's reminder timing."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django import forms

from clinicline.outreach import appointment_csv
from clinicline.outreach.appointments import AppointmentRow, Problem
from clinicline.outreach.reminders import MAX_OFFSET_H, MAX_OFFSETS

OFFSET = re.compile(r"(\d{1,4})\s*(d|h|days?|hours?)", re.IGNORECASE)


class AppointmentUploadForm(forms.Form):
    file = forms.FileField(label="Appointments file (CSV)", help_text=(
        "Columns: external_id, mrn (or given_name, family_name, date_of_birth), provider, "
        "starts_at (YYYY-MM-DD HH:MM, the practice's local time), location."))

    def __init__(self, *args: Any, tz: zoneinfo.ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_file(self) -> tuple[list[AppointmentRow], list[Problem]]:
        """The file's rows and its bad lines, once the file as a whole can be read."""
        upload = self.cleaned_data["file"]
        if upload.size > appointment_csv.MAX_BYTES:  # refused before it is read
            raise forms.ValidationError("The file is over 2 MB: split it.")
        try:
            return appointment_csv.read(upload.read(), self.tz)
        except appointment_csv.CsvRefused as exc:
            raise forms.ValidationError(str(exc)) from None


class OffsetsForm(forms.Form):
    offsets = forms.CharField(label="Send reminders this long before", max_length=100,
                              help_text='For example "7d, 2d" or "3d, 4h".')

    def clean_offsets(self) -> list[int]:
        parts = [p.strip() for p in self.cleaned_data["offsets"].split(",") if p.strip()]
        hours = []
        for part in parts:
            found = OFFSET.fullmatch(part)
            if found is None:
                raise forms.ValidationError(f'"{part[:20]}" is not a time such as 7d or 4h.')
            amount, unit = int(found[1]), found[2].lower()
            hours.append(amount * 24 if unit.startswith("d") else amount)
        if not 1 <= len(set(hours)) <= MAX_OFFSETS:
            raise forms.ValidationError(f"Give 1 to {MAX_OFFSETS} times.")
        if not all(0 < h <= MAX_OFFSET_H for h in hours):
            raise forms.ValidationError("Each time is between 1 hour and 60 days.")
        return hours
