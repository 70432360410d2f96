"""The appointment pages: the upcoming list, the CSV import with its preview, and the
reminders page with its runs. Upload → preview (nothing written but the sealed upload) →
confirm → ``import_appointments``."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicline.accounts.access import PracticeRequest, member_view, scoped_or_404
from clinicline.accounts.roles import Perm, allows
from clinicline.outreach import appointments, reminders
from clinicline.outreach.appointment_forms import AppointmentUploadForm, OffsetsForm
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentUpload,
    Reminder,
    ReminderRun,
    ReminderStatus,
    RunState,
)
from clinicline.outreach.appointments import AppointmentRow, Problem

LISTED = 200
SAFE = ["GET", "HEAD"]


@member_view(Perm.SCHEDULE)
@require_GET
def upcoming(request: PracticeRequest) -> HttpResponse:
    """The practice's next appointments: when, with whom, where, and their reminders. The
    patient is a link to the record (which audits its own opening), never a name here."""
    rows = (Appointment.objects.for_practice(request.practice)
            .filter(starts_at__gte=timezone.now()).order_by("starts_at")
            .select_related("provider").annotate(
                pending=Count("reminders", filter=_status(ReminderStatus.PENDING)),
                sent=Count("reminders", filter=_status(ReminderStatus.SENT)))[:LISTED])
    return render(request, "outreach/appointments.html", {"appointments": rows,
                                                          "limit": LISTED})


def _status(status: str) -> Q:
    return Q(reminders__status=status)


@member_view(Perm.SCHEDULE)
@require_http_methods(["GET", "HEAD", "POST"])
def upload(request: PracticeRequest) -> HttpResponse:
    form = AppointmentUploadForm(request.POST or None, request.FILES or None,
                                 tz=request.practice.tz)
    if request.method != "POST" or not form.is_valid():
        return render(request, "outreach/appointments_import.html", {"form": form},
                      status=400 if form.errors else 200)
    rows, problems = form.cleaned_data["file"]
    # Uploads nobody confirmed are dropped as the next one arrives.
    AppointmentUpload.objects.for_practice(request.practice).filter(
        created_at__lt=timezone.now() - AppointmentUpload.EXPIRES).delete()
    held = AppointmentUpload.objects.create(
        practice=request.practice, created_by=request.user,
        rows=[r.as_json() for r in rows],
        problems=[{"line": p.line, "message": p.message} for p in problems])
    return redirect("appointments:preview", practice=request.practice.slug, upload=held.pk)


def _held(request: PracticeRequest, upload: uuid.UUID) -> AppointmentUpload:
    """The member's own upload, while it is fresh; anyone else's is not there."""
    return scoped_or_404(AppointmentUpload.objects.filter(
        created_by=request.user, created_at__gte=timezone.now() - AppointmentUpload.EXPIRES),
        request.practice, pk=upload)


def _rows(held: AppointmentUpload) -> list[AppointmentRow]:
    return [AppointmentRow.from_json(r) for r in held.rows]


@member_view(Perm.SCHEDULE)
def preview(request: PracticeRequest, upload: uuid.UUID) -> HttpResponse:
    held = _held(request, upload)  # first: someone else's upload is a 404 to any method
    if request.method not in SAFE:
        return HttpResponseNotAllowed(SAFE)
    plan = appointments.plan_import(request.practice, _rows(held))
    problems = sorted([Problem(**p) for p in held.problems] + plan.problems,
                      key=lambda p: p.line)
    return render(request, "outreach/appointments_preview.html", {
        "held": held, "plan": plan, "problems": problems,
        "changes": [p for p in plan.planned if p.action != appointments.UNCHANGED],
        "created": plan.count(appointments.CREATE), "updated": plan.count(appointments.UPDATE),
        "unchanged": plan.count(appointments.UNCHANGED)})


@member_view(Perm.SCHEDULE)
def confirm(request: PracticeRequest, upload: uuid.UUID) -> HttpResponse:
    held = _held(request, upload)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    result = appointments.import_appointments(request.practice, _rows(held), by=request.user,
                                              request=request)
    refused = len(result.problems) + len(held.problems)
    held.delete()
    messages.success(request, f"Imported: {result.created} new, {result.updated} changed, "
                              f"{result.unchanged} unchanged"
                              + (f"; {refused} lines not imported." if refused else "."))
    return redirect("appointments:upcoming", practice=request.practice.slug)


@member_view(Perm.SCHEDULE)
@require_GET
def reminder_page(request: PracticeRequest) -> HttpResponse:
    return _reminder_page(request, OffsetsForm(initial={"offsets": _offsets_text(request)}))


def _offsets_text(request: PracticeRequest) -> str:
    return ", ".join(f"{h // 24}d" if h % 24 == 0 else f"{h}h"
                     for h in reminders.offsets_for(request.practice))


def _offsets_words(request: PracticeRequest) -> str:
    """ "7 days and 2 days", as the page says it."""
    words = [f"{h // 24} day{'s' if h != 24 else ''}" if h % 24 == 0
             else f"{h} hour{'s' if h != 1 else ''}"
             for h in reminders.offsets_for(request.practice)]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _reminder_page(request: PracticeRequest, form: OffsetsForm, status: int = 200) -> HttpResponse:
    practice, now = request.practice, timezone.now()
    reminders_of = Reminder.objects.for_practice(practice)
    return render(request, "outreach/appointments_reminders.html", {
        "form": form if allows(request.membership.role, Perm.MANAGE_PRACTICE) else None,
        "offsets": _offsets_words(request),
        "due_now": reminders_of.filter(status=ReminderStatus.PENDING, send_at__lte=now).count(),
        "next_week": reminders_of.filter(status=ReminderStatus.PENDING, send_at__gt=now,
                                         send_at__lte=now + dt.timedelta(days=7)).count(),
        "running": ReminderRun.objects.for_practice(practice).exclude(state=RunState.DONE)
        .first(),
        "runs": ReminderRun.objects.for_practice(practice).order_by("-created_at")[:10],
    }, status=status)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def offsets(request: PracticeRequest) -> HttpResponse:
    form = OffsetsForm(request.POST)
    if not form.is_valid():
        return _reminder_page(request, form, status=400)
    reminders.set_offsets(request.practice, form.cleaned_data["offsets"], by=request.user,
                          request=request)
    messages.success(request, "Reminder timing saved: it applies to appointments imported or "
                              "moved from now on.")
    return redirect("appointments:reminders", practice=request.practice.slug)


@member_view(Perm.SCHEDULE)
@require_POST
def start_run(request: PracticeRequest) -> HttpResponse:
    run = reminders.start_run(request.practice, by=request.user, request=request)
    return redirect("appointments:run", practice=request.practice.slug, run=run.pk)


@member_view(Perm.SCHEDULE)
def run_page(request: PracticeRequest, run: uuid.UUID) -> HttpResponse:
    found = scoped_or_404(ReminderRun.objects.all(), request.practice, pk=run)
    if request.method not in SAFE:
        return HttpResponseNotAllowed(SAFE)
    counted = dict(Reminder.objects.filter(run=found).values("status")
                   .annotate(n=Count("id")).values_list("status", "n"))
    outcomes = [(label, counted[value]) for value, label in ReminderStatus.choices
                if value != ReminderStatus.PENDING and counted.get(value)]
    return render(request, "outreach/appointments_run.html", {
        "run": found, "outcomes": outcomes, "refresh": found.state != RunState.DONE})
