"""The office-hours page: the week and the holidays, which any member may read and a
practice admin may change. Each change is audited as a settings change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.practices import hours
from clinicline.practices.models import WEEKDAYS, Holiday, OfficeHours, Practice


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    opens = forms.TimeField()
    closes = forms.TimeField()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        opens, closes = data.get("opens"), data.get("closes")
        if opens is not None and closes is not None and closes <= opens:
            raise forms.ValidationError("The office must close after it opens.")
        return data


class HolidayForm(forms.Form):
    date = forms.DateField()
    name = forms.CharField(max_length=100)


class HolidayRemoveForm(forms.Form):
    date = forms.DateField()


def _page(request: PracticeRequest, *, interval_form: IntervalForm | None = None,
          holiday_form: HolidayForm | None = None, status: int = 200) -> HttpResponse:
    practice = request.practice
    week = hours.week(practice)
    return render(request, "practices/hours.html", {
        "days": [(day, name, week[day]) for day, name in WEEKDAYS],
        "defaults": hours.uses_defaults(practice),
        "holidays": list(Holiday.objects.for_practice(practice).order_by("date")),
        "can_edit": allows(request.membership.role, Perm.MANAGE_PRACTICE),
        "interval_form": interval_form or IntervalForm(),
        "holiday_form": holiday_form or HolidayForm(),
    }, status=status)


def _bad(request: PracticeRequest, form: forms.Form) -> HttpResponse:
    if isinstance(form, IntervalForm):
        return _page(request, interval_form=form, status=400)
    if isinstance(form, HolidayForm):
        return _page(request, holiday_form=form, status=400)
    return HttpResponse("Say which holiday to remove.", status=400, content_type="text/plain")


def _materialise_defaults(practice: Practice) -> None:
    """The first change to a practice on the defaults starts from the defaults."""
    if hours.uses_defaults(practice):
        OfficeHours.objects.bulk_create(
            OfficeHours(practice=practice, weekday=day, opens=opens, closes=closes)
            for day, intervals in hours.DEFAULT_WEEK.items() for opens, closes in intervals)


def _done(request: PracticeRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("practices:hours", practice=request.practice.slug)


@member_view()
def office_hours(request: PracticeRequest) -> HttpResponse:
    return _page(request)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def interval_add(request: PracticeRequest) -> HttpResponse:
    form = IntervalForm(request.POST)
    if not form.is_valid():
        return _bad(request, form)
    day, opens, closes = (form.cleaned_data[k] for k in ("weekday", "opens", "closes"))
    practice = request.practice
    if any(o < closes and opens < c for o, c in hours.week(practice)[day]):
        form.add_error(None, "That interval overlaps one the office already has.")
        return _bad(request, form)
    with transaction.atomic():
        _materialise_defaults(practice)
        row = OfficeHours.objects.create(practice=practice, weekday=day, opens=opens,
                                         closes=closes)
        record(Action.SETTINGS_CHANGE, request=request, practice=practice, obj=row,
               fields=["office_hours"], reason=f"added {row}")
    return _done(request, f"Added {row}.")


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def interval_remove(request: PracticeRequest) -> HttpResponse:
    form = IntervalForm(request.POST)
    if not form.is_valid():
        return _bad(request, form)
    day, opens, closes = (form.cleaned_data[k] for k in ("weekday", "opens", "closes"))
    practice = request.practice
    if (opens, closes) not in hours.week(practice)[day]:
        return HttpResponse("The office has no such interval.", status=400,
                            content_type="text/plain")
    with transaction.atomic():
        _materialise_defaults(practice)
        OfficeHours.objects.for_practice(practice).filter(
            weekday=day, opens=opens, closes=closes).delete()
        label = f"{dict(WEEKDAYS)[day]} {opens:%H:%M}–{closes:%H:%M}"
        record(Action.SETTINGS_CHANGE, request=request, practice=practice,
               fields=["office_hours"], reason=f"removed {label}")
    return _done(request, f"Removed {label}.")


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def holiday_add(request: PracticeRequest) -> HttpResponse:
    form = HolidayForm(request.POST)
    if not form.is_valid():
        return _bad(request, form)
    practice = request.practice
    day: dt.date = form.cleaned_data["date"]
    with transaction.atomic():
        if Holiday.objects.for_practice(practice).filter(date=day).exists():
            form.add_error("date", "That date is already a holiday.")
            return _bad(request, form)
        row = Holiday.objects.create(practice=practice, date=day,
                                     name=form.cleaned_data["name"])
        record(Action.SETTINGS_CHANGE, request=request, practice=practice, obj=row,
               fields=["holidays"], reason=f"added holiday {day}")
    return _done(request, f"Added {row}.")


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def holiday_remove(request: PracticeRequest) -> HttpResponse:
    form = HolidayRemoveForm(request.POST)
    if not form.is_valid():
        return _bad(request, form)
    practice = request.practice
    day: dt.date = form.cleaned_data["date"]
    with transaction.atomic():
        deleted, _ = Holiday.objects.for_practice(practice).filter(date=day).delete()
        if not deleted:
            return HttpResponse("There is no holiday on that date.", status=400,
                                content_type="text/plain")
        record(Action.SETTINGS_CHANGE, request=request, practice=practice,
               fields=["holidays"], reason=f"removed holiday {day}")
    return _done(request, f"Removed the holiday on {day}.")
