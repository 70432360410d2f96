"""The practice's call types: every member who takes calls may read them; the practice
admin changes them by uploading a new version (JSON or YAML)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.intake import service
from clinicline.intake.forms import CallTypeUploadForm
from clinicline.intake.models import CallTypeSet


@member_view(Perm.VIEW_PATIENT)
@require_GET
def call_types(request: PracticeRequest) -> HttpResponse:
    return _page(request, service.call_types_for(request.practice))


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def upload(request: PracticeRequest) -> HttpResponse:
    form = CallTypeUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        # Nothing is saved; the page says what to fix.
        return _page(request, service.call_types_for(request.practice), form, status=400)
    saved = service.import_call_types(request.practice, form.cleaned_data["file"],
                                      by=request.user, request=request)
    messages.success(request, f"Call types version {saved.version} are now in force.")
    return redirect("intake:call-types", practice=request.practice.slug)


def _page(request: PracticeRequest, current: CallTypeSet, form: CallTypeUploadForm | None = None,
          status: int = 200) -> HttpResponse:
    versions = list(CallTypeSet.objects.for_practice(request.practice)
                    .select_related("created_by").defer("document", "source"))
    can_manage = allows(request.membership.role, Perm.MANAGE_PRACTICE)
    return render(request, "intake/call_types.html", {
        "current": current, "versions": versions, "can_manage": can_manage,
        "form": form or (CallTypeUploadForm() if can_manage else None),
    }, status=status)
