"""The schedule pages' forms. Members are offered (and accepted) only from the practice;
local times are read in the schedule's zone, by the same wall-clock rule as hand-offs."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from clinicline.accounts.models import User
from clinicline.forms import DayField
from clinicline.oncall import ical
from clinicline.oncall.models import Override, Rotation, Schedule
from clinicline.oncall.schedules import to_utc
from clinicline.practices.models import Practice

LEVELS = [(1, "primary"), (2, "secondary (backup)"), (3, "third")]
MAX_PARTICIPANTS = 20


def members_of(practice: Practice) -> list[User]:
    return list(User.objects.filter(memberships__practice=practice)
                .order_by("last_name", "first_name", "username"))


def _member_choices(practice: Practice) -> list[tuple[str, str]]:
    return [(str(u.pk), ical.display_name(u)) for u in members_of(practice)]


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if Schedule.objects.for_practice(self.practice).filter(name=name).exists():
            raise forms.ValidationError("The practice already has a schedule by that name.")
        return name


class RotationForm(forms.Form):
    level = forms.TypedChoiceField(choices=LEVELS, coerce=int)
    kind = forms.ChoiceField(choices=Rotation.Kind.choices, initial=Rotation.Kind.WEEKLY)
    shift_hours = forms.IntegerField(min_value=1, max_value=24 * 28, required=False,
                                     help_text="for “every so many hours” only")
    handoff_time = forms.TimeField(initial=dt.time(8, 0), label="Hand-off time (local)",
                                   widget=forms.TimeInput(attrs={"type": "time"}))
    starts_on = DayField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = DayField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                       help_text="empty: runs until removed")
    participants = forms.TypedMultipleChoiceField(
        coerce=int, help_text="in order: the first takes the first shift")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["participants"]).choices = _member_choices(practice)
        self.members = {u.pk: u for u in members_of(practice)}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == Rotation.Kind.CUSTOM and not data.get("shift_hours"):
            self.add_error("shift_hours", "Say how many hours a custom shift lasts.")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends <= starts:
            self.add_error("ends_on", "A rotation must end after the day it starts.")
        if len(data.get("participants") or []) > MAX_PARTICIPANTS:
            self.add_error("participants", f"At most {MAX_PARTICIPANTS} participants.")
        return data

    def ordered_participants(self) -> list[User]:
        """The chosen members in the order the form sent them (one select per place), each
        once."""
        return [self.members[pk] for pk in dict.fromkeys(self.cleaned_data["participants"])]


class PickForm(forms.Form):
    """One row of the schedule, by id: which rotation or override to remove."""

    id = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["id"]).choices = [(str(i), str(i)) for i in ids]


class OverrideForm(forms.Form):
    level = forms.TypedChoiceField(choices=LEVELS, coerce=int)
    kind = forms.ChoiceField(choices=Override.Kind.choices, initial=Override.Kind.REPLACE)
    member = forms.TypedChoiceField(coerce=int)
    replaces = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                      help_text="replace only: empty means whoever is on")
    starts_on = DayField(widget=forms.DateInput(attrs={"type": "date"}))
    starts_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    ends_on = DayField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args: Any, schedule: Schedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _member_choices(schedule.practice)
        cast(forms.ChoiceField, self.fields["member"]).choices = choices
        cast(forms.ChoiceField, self.fields["replaces"]).choices = [("", "whoever is on"),
                                                                    *choices]
        self.schedule = schedule

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        data, tz = self.cleaned_data, self.schedule.tz
        return (to_utc(dt.datetime.combine(data["starts_on"], data["starts_time"]), tz),
                to_utc(dt.datetime.combine(data["ends_on"], data["ends_time"]), tz))

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.errors:
            return self.cleaned_data
        starts, ends = self.window()
        if ends <= starts:
            raise forms.ValidationError("The override must end after it starts.")
        data = self.cleaned_data
        if data.get("replaces") is not None and data["kind"] != Override.Kind.REPLACE:
            self.add_error("replaces", "Only a replace override replaces someone.")
        if data.get("replaces") == data.get("member"):
            self.add_error("replaces", "A member cannot replace themselves.")
        return data


class ImportForm(forms.Form):
    level = forms.TypedChoiceField(choices=LEVELS, coerce=int)
    file = forms.FileField(label="Calendar file (.ics)")


class WeekForm(forms.Form):
    week = DayField(required=False)
