"""The practice's scripts: every member who takes calls reads them (and prints the binder);
the practice admin edits them in the page, with a preview, or uploads a YAML file. Each
save is a new version, audited; nothing is saved when any part is refused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.intake import binder_pdf, ivr, scripts, service
from clinicline.intake.forms import ScriptsForm, ScriptsUploadForm
from clinicline.intake.models import CallTypeSet, ScriptSet
from clinicline.intake.office import Office
from clinicline.oncall import pages
from clinicline.practices.models import Practice
from clinicline.triage.service import protocol_for


def samples(practice: Practice) -> dict[str, Any]:
    """What the preview fills each slot with: this practice's own values where it has them."""
    on_call = pages.on_call_now(practice).primary
    types = service.call_types_for(practice).call_types
    return {"practice": practice.name,
            "provider": on_call[0].get_full_name() if on_call else "Dr. Osei",
            "callback_minutes": practice.urgent_callback_minutes,
            "next_opening": Office.now(practice).opens() or "Monday at 8:00 AM",
            "digits": "1", "call_type": types[0].label if types else "Prescription refill",
            "holiday": "Thanksgiving"}


# The keys and digits each moment really says: the language key, a number's last four.
DIGITS = {"language_offer": ivr.LANGUAGE_KEY, "read_back_number": "0142"}


def previews(document: dict[str, Any], practice: Practice) -> list[dict[str, Any]]:
    """Each moment as a caller hears it, in each language, with sample slots."""
    filled = samples(practice)
    words = scripts.Scripts(document, 0)
    rows = []
    for name, key in scripts.KEYS.items():
        slots = {slot: filled[slot] for slot in key.slots} | (
            {"digits": DIGITS[name]} if name in DIGITS else {})
        rows.append({"name": name, "where": key.where, "slots": sorted(key.slots),
                     "texts": [(language, words.in_language(language.code).text(name, **slots))
                               for language in words.languages]})
    return rows


def _page(request: PracticeRequest, *, form: ScriptsForm | None = None,
          upload: ScriptsUploadForm | None = None, preview: dict[str, Any] | None = None,
          status: int = 200) -> HttpResponse:
    shown = service.script_set_for(request.practice)
    can_manage = allows(request.membership.role, Perm.MANAGE_PRACTICE)
    return render(request, "intake/scripts.html", {
        "current": shown, "rows": previews(preview or shown.document, request.practice),
        "previewing": preview is not None, "can_manage": can_manage,
        "form": form or (ScriptsForm(shown.document) if can_manage else None),
        "upload": upload or (ScriptsUploadForm() if can_manage else None),
        "versions": ScriptSet.versions(request.practice).select_related("created_by")
        .defer("document", "source"),
        "slots": scripts.SLOTS, "hear": not settings.PRODUCTION,
    }, status=status)


@member_view(Perm.VIEW_PATIENT)
@require_GET
def page(request: PracticeRequest) -> HttpResponse:
    return _page(request)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def edit(request: PracticeRequest) -> HttpResponse:
    """"Preview" shows the posted words as callers would hear them and saves nothing;
    "Save" makes them the next version."""
    form = ScriptsForm(service.script_set_for(request.practice).document, request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    if "preview" in request.POST:
        return _page(request, form=form, preview=form.document)
    saved = service.import_scripts(request.practice, form.source, by=request.user,
                                   request=request)
    messages.success(request, f"Scripts version {saved.version} are now in force.")
    return redirect("intake:scripts", practice=request.practice.slug)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def upload(request: PracticeRequest) -> HttpResponse:
    form = ScriptsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, upload=form, status=400)
    saved = service.import_scripts(request.practice, form.cleaned_data["file"],
                                   by=request.user, request=request)
    messages.success(request, f"Scripts version {saved.version} are now in force.")
    return redirect("intake:scripts", practice=request.practice.slug)


@member_view(Perm.VIEW_PATIENT)
@require_GET
def export(request: PracticeRequest) -> HttpResponse:
    """The version in force as the YAML it was saved from (comments and all)."""
    shown = service.script_set_for(request.practice)
    response = HttpResponse(shown.source or scripts.dump(shown.document),
                            content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="scripts-v{shown.version}.yaml"')
    return response


@member_view(Perm.VIEW_PATIENT)
@require_GET
def binder(request: PracticeRequest) -> HttpResponse:
    """The printable binder: the scripts in each language, the call types with what each
    collects, and who is paged, for the desk and for a day the site is down."""
    shown = service.script_set_for(request.practice)
    types: CallTypeSet = service.call_types_for(request.practice)
    return render(request, "intake/scripts_binder.html", {
        "current": shown, "rows": previews(shown.document, request.practice),
        "call_types": types, "office": Office.now(request.practice),
        "on_call": pages.on_call_now(request.practice),
    })


@member_view(Perm.VIEW_PATIENT)
@require_GET
def binder_download(request: PracticeRequest) -> HttpResponse:
    """The binder as a PDF, from the live scripts, templates and protocol. Audited once the
    file is made (a failure to make it records nothing: nothing was handed out)."""
    shown = service.script_set_for(request.practice)
    rows = previews(shown.document, request.practice)
    refusals = [(language.name, text) for row in rows if row["name"] == "return_call_refusal"
                for language, text in row["texts"]]
    pdf = binder_pdf.build(request.practice, scripts=shown, rows=rows, refusals=refusals,
                           protocol=protocol_for(request.practice).spec)
    record(Action.BINDER_PRINT, request=request, practice=request.practice, obj=shown)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="script-binder-{request.practice.slug}.pdf"')
    return response
