"""The compliance page's filters. They travel in the query string: none of them is PHI (a
member's id, an action, dates, an opaque patient id)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from clinicline.audit.models import Action, AuditEvent
from clinicline.forms import DayField


class DateInput(forms.DateInput):
    input_type = "date"


class EventFilter(forms.Form):
    actor = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Who")
    patient = forms.UUIDField(required=False, label="Patient id",
                              error_messages={"invalid": "Enter a patient id (a UUID) from the "
                                                         "patient's record, not a name."})
    action = forms.ChoiceField(required=False, choices=[("", "any action"), *Action.choices])
    # Bounded, so that the end date's next midnight is still a date (9999-12-31 is not).
    since = DayField(required=False, label="From", widget=DateInput)
    until = DayField(required=False, label="To", widget=DateInput)

    def __init__(self, data: Mapping[str, Any], *, members: list[tuple[int, str]],
                 tz: zoneinfo.ZoneInfo) -> None:
        super().__init__(data)
        actor = self.fields["actor"]
        assert isinstance(actor, forms.ChoiceField)  # declared above
        actor.choices = [("", "anyone"), *members]
        self.tz = tz

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def _midnight(self, day: dt.date) -> dt.datetime:
        """The start of ``day`` in the practice's zone: dates mean the practice's days."""
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        conditions = Q()
        if data["actor"] is not None:
            conditions &= Q(actor_id=data["actor"])
        if data["patient"]:
            conditions &= Q(patient_id=str(data["patient"]))
        if data["action"]:
            conditions &= Q(action=data["action"])
        if data["since"]:
            conditions &= Q(at__gte=self._midnight(data["since"]))
        if data["until"]:
            conditions &= Q(at__lt=self._midnight(data["until"] + dt.timedelta(days=1)))
        return events.filter(conditions)

    def describe(self) -> str:
        """The filters in words, for the audit event that records their use."""
        data = self.cleaned_data
        parts = [f"{name}={data[name]}" for name in ("actor", "patient", "action", "since",
                                                      "until") if data[name] not in (None, "")]
        return "filters: " + (", ".join(parts) if parts else "none")

