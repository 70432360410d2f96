"""The on-call pages: the practice's week calendar (any member), and each schedule's page of
rotations and overrides (practice admins). Every change is audited (``oncall.editing``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view, scoped_or_404
from clinicline.accounts.roles import Perm, allows
from clinicline.oncall import editing, feeds, ical
from clinicline.oncall.models import Override, Rotation, Schedule
from clinicline.oncall.schedule_forms import (
    ImportForm,
    OverrideForm,
    PickForm,
    RotationForm,
    ScheduleForm,
    WeekForm,
    members_of,
)
from clinicline.oncall.week import monday_of, week

IMPORT_AHEAD = dt.timedelta(days=366)
ScheduleView = Callable[[PracticeRequest, Schedule], HttpResponse]


def _schedule(request: PracticeRequest, schedule_id: int) -> Schedule:
    return scoped_or_404(Schedule.objects.select_related("practice"), request.practice,
                         pk=schedule_id)


def _on_schedule(method: str) -> Callable[[ScheduleView], Callable[..., HttpResponse]]:
    """The schedule from the URL (404 if not the practice's) before the method is checked,
    so that another practice's id answers 404 whatever the method."""

    def decorate(view: ScheduleView) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: PracticeRequest, schedule_id: int) -> HttpResponse:
            schedule = _schedule(request, schedule_id)
            if request.method != method:
                return HttpResponseNotAllowed([method])
            return view(request, schedule)

        return wrapper

    return decorate


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("oncall_feeds:feed", kwargs={"token": token}))


# --- the week calendar -----------------------------------------------------------------------

def _calendar(request: PracticeRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    form = WeekForm(request.GET)
    if not form.is_valid():
        return render(request, "oncall/calendar.html", {"week_form": form}, status=400)
    now = timezone.now()
    today = now.astimezone(request.practice.tz).date()
    monday = monday_of(form.cleaned_data["week"] or today)
    schedules = list(Schedule.objects.for_practice(request.practice).order_by("name"))
    return render(request, "oncall/calendar.html", {
        "days": week(request.practice, monday, today), "monday": monday,
        "previous": monday - dt.timedelta(days=7), "next": monday + dt.timedelta(days=7),
        "schedules": [(s, editing.needs_review(s, now)) for s in schedules],
        "can_edit": allows(request.membership.role, Perm.MANAGE_PRACTICE),
        "schedule_form": extra.pop("schedule_form", None) or ScheduleForm(
            practice=request.practice), **extra,
    }, status=status)


@member_view()
def calendar(request: PracticeRequest) -> HttpResponse:
    return _calendar(request)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def schedule_new(request: PracticeRequest) -> HttpResponse:
    form = ScheduleForm(request.POST, practice=request.practice)
    if not form.is_valid():
        return _calendar(request, schedule_form=form, status=400)
    schedule = editing.create_schedule(request.practice, form.cleaned_data["name"],
                                       request.user, request)
    return redirect("oncall:schedule", practice=request.practice.slug, schedule_id=schedule.pk)


@member_view()
@require_POST
def my_feed_new(request: PracticeRequest) -> HttpResponse:
    token = feeds.new_link(request.practice, member=request.user, by=request.user,
                           request=request)
    return _calendar(request, new_feed_url=_feed_url(request, token))


# --- one schedule ----------------------------------------------------------------------------

def _page(request: PracticeRequest, schedule: Schedule, *, status: int = 200,
          **forms: Any) -> HttpResponse:
    rotations = [rotation for layer in schedule.layers.prefetch_related(
        "rotations__members__user") for rotation in layer.rotations.all()]
    return render(request, "oncall/schedule.html", {
        "schedule": schedule, "rotations": rotations,
        "overrides": list(schedule.overrides.select_related("member", "replaces")
                          .filter(ends_at__gt=timezone.now()).order_by("starts_at")),
        "needs_review": editing.needs_review(schedule, timezone.now()),
        "rotation_form": forms.pop("rotation_form", None) or RotationForm(
            practice=request.practice),
        "override_form": forms.pop("override_form", None) or OverrideForm(schedule=schedule),
        "import_form": forms.pop("import_form", None) or ImportForm(),
        "places": range(4), **forms,
    }, status=status)


def _done(request: PracticeRequest, schedule: Schedule, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("oncall:schedule", practice=request.practice.slug, schedule_id=schedule.pk)


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("GET")
def schedule_page(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    return _page(request, schedule)


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def rotation_add(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    data = request.POST.copy()
    data.setlist("participants", [v for v in data.getlist("participants") if v])
    form = RotationForm(data, practice=request.practice)
    if not form.is_valid():
        return _page(request, schedule, rotation_form=form, status=400)
    values = {k: form.cleaned_data[k] for k in ("kind", "handoff_time", "starts_on",
                                                "ends_on", "shift_hours")}
    editing.add_rotation(schedule, form.cleaned_data["level"], form.ordered_participants(),
                         by=request.user, request=request, **values)
    return _done(request, schedule, "Added the rotation.")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def rotation_remove(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    rotations = {r.pk: r for layer in schedule.layers.all() for r in layer.rotations.all()}
    return _remove(request, schedule, rotations, "rotation")


def _remove(request: PracticeRequest, schedule: Schedule, rows: Mapping[int, Rotation | Override],
            what: str) -> HttpResponse:
    """Remove the schedule's row the form names (one of ``rows``, never another's)."""
    form = PickForm(request.POST, ids=list(rows))
    if not form.is_valid():
        return HttpResponse(f"Say which {what} of this schedule to remove.", status=400,
                            content_type="text/plain")
    editing.remove(schedule, rows[form.cleaned_data["id"]], request.user, request)
    return _done(request, schedule, f"Removed the {what}.")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def override_add(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    form = OverrideForm(request.POST, schedule=schedule)
    if not form.is_valid():
        return _page(request, schedule, override_form=form, status=400)
    members = {u.pk: u for u in members_of(request.practice)}
    starts_at, ends_at = form.window()
    replaces = form.cleaned_data["replaces"]
    editing.add_override(schedule, level=form.cleaned_data["level"],
                         kind=form.cleaned_data["kind"],
                         member=members[form.cleaned_data["member"]],
                         replaces=members[replaces] if replaces else None,
                         starts_at=starts_at, ends_at=ends_at, by=request.user,
                         request=request)
    return _done(request, schedule, "Added the override.")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def override_remove(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    return _remove(request, schedule, {o.pk: o for o in schedule.overrides.all()}, "override")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def import_ics(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, schedule, import_form=form, status=400)
    now = timezone.now()
    try:
        found = ical.read_shifts(form.cleaned_data["file"].read(ical.MAX_BYTES + 1),
                                 request.practice, schedule.tz, now, now + IMPORT_AHEAD)
    except ical.IcsError as error:
        form.add_error("file", str(error))
        return _page(request, schedule, import_form=form, status=400)
    count = editing.import_shifts(schedule, form.cleaned_data["level"], found, request.user,
                                  request)
    return _done(request, schedule, f"Imported {count} shifts as overrides.")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def mark_reviewed(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    editing.mark_reviewed(schedule, request.user, timezone.now(), request)
    return _done(request, schedule, "Marked reviewed.")


@member_view(Perm.MANAGE_PRACTICE)
@_on_schedule("POST")
def schedule_feed_new(request: PracticeRequest, schedule: Schedule) -> HttpResponse:
    token = feeds.new_link(request.practice, schedule=schedule, by=request.user,
                           request=request)
    return _page(request, schedule, new_feed_url=_feed_url(request, token))


# --- the feed, read by calendar apps without a login ----------------------------------------

@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    found = feeds.active(token)
    if found is None:
        raise Http404("No such feed.")
    response = HttpResponse(feeds.feed_bytes(found, timezone.now()),
                            content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
