import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.forms import parse_id
from clinicline.inbox.models import Notice
from clinicline.oncall import coverage
from clinicline.practices import voice_fallback
from clinicline.practices.forms import AgreementForm, PracticeSettingsForm
from clinicline.practices.models import BusinessAssociateAgreement, Practice, Vendor

NOTICES_SHOWN = 10


@member_view()
def practice_home(request: PracticeRequest) -> HttpResponse:
    # The pages the member may open are the navigation bar's (clinicline.navigation).
    unread = Notice.objects.for_practice(request.practice).filter(
        user=request.user, read_at__isnull=True)
    # Its admins see what the daily coverage mail tells them (clinicline.oncall.coverage).
    found = (coverage.coverage(request.practice, timezone.now())
             if allows(request.membership.role, Perm.MANAGE_PRACTICE) else None)
    return render(request, "practices/home.html", {
        "notices": list(unread.order_by("-created_at", "-pk")[:NOTICES_SHOWN]),
        "unread_count": unread.count(), "coverage": found,
        "coverage_gaps": coverage.gap_lines(request.practice, found) if found else [],
        "coverage_days": coverage.WINDOW.days,
    })


@member_view()
@require_POST
def notices_read(request: PracticeRequest) -> HttpResponse:
    """Mark the notices the member saw as read: only those listed, so one that arrived
    after the page was drawn stays unread."""
    ids = [parse_id(i) for i in request.POST.getlist("notice")]
    if not ids or None in ids:
        return HttpResponse("Say which notices to mark as read.", status=400,
                            content_type="text/plain")
    Notice.objects.for_practice(request.practice).filter(
        user=request.user, pk__in=ids, read_at__isnull=True,
    ).update(read_at=timezone.now())
    return redirect("practices:home", practice=request.practice.slug)


@member_view(Perm.MANAGE_PRACTICE)
def practice_settings(request: PracticeRequest) -> HttpResponse:
    # An empty POST is a submission too (a 400), not a fresh page.
    form = PracticeSettingsForm(request.POST if request.method == "POST" else None,
                                instance=request.practice)
    if form.is_valid():
        with transaction.atomic():
            form.save()
            record(Action.SETTINGS_CHANGE, request=request, practice=request.practice,
                   fields=form.changed_data)
            if {"name", "front_desk_number"} & set(form.changed_data):
                voice_fallback.write_after_commit()  # what callers hear in an outage
        messages.success(request, "Settings saved. New session limits apply at next login.")
        return redirect("practices:settings", practice=request.practice.slug)
    return render(request, "practices/settings.html", {"form": form},
                  status=400 if form.errors else 200)


@dataclass
class VendorAgreements:
    vendor: Vendor
    current: BusinessAssociateAgreement | None
    agreements: list[tuple[BusinessAssociateAgreement, str]]  # each with its standing


def standing(baa: BusinessAssociateAgreement, today: dt.date) -> str:
    if baa.current_on(today):
        return "current"
    return "not yet in effect" if baa.effective_on > today else "expired"


def practice_today(practice: Practice) -> dt.date:
    return timezone.localdate(timezone=practice.tz)


@member_view(Perm.VIEW_AUDIT)
def agreements(request: PracticeRequest) -> HttpResponse:
    """Every vendor that may handle PHI, and this practice's agreements with each: the
    compliance officer reads it, the practice admin records new ones."""
    today = practice_today(request.practice)
    rows = []
    for vendor in Vendor.objects.order_by("name"):
        mine = [(baa, standing(baa, today)) for baa in BusinessAssociateAgreement.objects
                .for_practice(request.practice).filter(vendor=vendor)
                .select_related("recorded_by").order_by("-effective_on", "-recorded_at")]
        current = next((baa for baa, state in mine if state == "current"), None)
        rows.append(VendorAgreements(vendor, current, mine))
    return render(request, "practices/agreements.html", {
        "vendors": rows, "today": today,
        "can_record": allows(request.membership.role, Perm.MANAGE_PRACTICE),
    })


@member_view(Perm.MANAGE_PRACTICE)
def agreement_add(request: PracticeRequest) -> HttpResponse:
    form = AgreementForm(request.POST if request.method == "POST" else None,
                         today=practice_today(request.practice))
    if form.is_valid():
        with transaction.atomic():
            baa = form.save(commit=False)
            baa.practice, baa.recorded_by = request.practice, request.user
            baa.save()
            # The vendor and the dates, which are the agreement's terms; no PHI is involved.
            record(Action.BAA_CHANGE, request=request, practice=request.practice, obj=baa,
                   fields=form.Meta.fields, reason=f"{baa.vendor.slug}: effective "
                   f"{baa.effective_on}, expires {baa.expires_on or 'when terminated'}")
        messages.success(request, f"Agreement with {baa.vendor} recorded.")
        return redirect("practices:agreements", practice=request.practice.slug)
    return render(request, "practices/agreement_form.html", {"form": form},
                  status=400 if form.errors else 200)
