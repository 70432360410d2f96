"""The practice's triage protocol: every member who takes calls may read it; the practice
admin changes it by uploading a new version (a file, so it can be reviewed and kept)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.triage import service
from clinicline.triage.forms import ProtocolUploadForm
from clinicline.triage.models import Protocol

SAFE = ["GET", "HEAD"]


@member_view(Perm.VIEW_PATIENT)
@require_GET
def protocol_in_force(request: PracticeRequest) -> HttpResponse:
    return _page(request, service.protocol_for(request.practice))


@member_view(Perm.VIEW_PATIENT)
def protocol_version(request: PracticeRequest, version: int) -> HttpResponse:
    protocol = _version(request, version)  # first: a foreign version is a 404 to any method
    if request.method not in SAFE:
        return HttpResponseNotAllowed(SAFE)
    return _page(request, protocol)


@member_view(Perm.VIEW_PATIENT)
def download(request: PracticeRequest, version: int) -> HttpResponse:
    protocol = _version(request, version)
    if request.method not in SAFE:
        return HttpResponseNotAllowed(SAFE)
    response = HttpResponse(protocol.as_yaml(), content_type="application/yaml; charset=utf-8")
    name = f"{request.practice.slug}-triage-v{protocol.version}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def upload(request: PracticeRequest) -> HttpResponse:
    form = ProtocolUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        # Nothing is saved; the page says which lines to fix.
        return _page(request, service.protocol_for(request.practice), form, status=400)
    protocol = service.import_protocol(request.practice, form.cleaned_data["file"],
                                       by=request.user, request=request)
    messages.success(request, f"Version {protocol.version} is now in force.")
    return redirect("triage:protocol", practice=request.practice.slug)


@member_view(Perm.MANAGE_PRACTICE)
def default(request: PracticeRequest) -> HttpResponse:
    """The shipped default against the version in force: what adopting it would add,
    change and remove; adopting it (POST) makes it the next version, audited."""
    if request.method == "POST":
        protocol = service.adopt_default(request.practice, by=request.user, request=request)
        messages.success(request, f"The shipped default is now version {protocol.version}, "
                                  "in force.")
        return redirect("triage:protocol", practice=request.practice.slug)
    if request.method not in SAFE:
        return HttpResponseNotAllowed([*SAFE, "POST"])
    current = service.protocol_for(request.practice)
    found = service.changes(current.document, service.default_document())
    rows = [(label, found.added[key], found.changed[key], found.removed[key])
            for key, label in (("rules", "Rules"), ("red_flags", "Red flags"),
                               ("questions", "Questions"))]
    return render(request, "triage/default.html", {
        "protocol": current, "changes": found, "rows": rows})


def _version(request: PracticeRequest, version: int) -> Protocol:
    protocol = service.version_of(request.practice, version)
    if protocol is None:
        raise Http404("No such version.")
    return protocol


def _page(request: PracticeRequest, protocol: Protocol, form: ProtocolUploadForm | None = None,
          status: int = 200) -> HttpResponse:
    versions = list(Protocol.objects.for_practice(request.practice)
                    .select_related("created_by").defer("document", "source"))
    can_manage = allows(request.membership.role, Perm.MANAGE_PRACTICE)
    newer_default = can_manage and bool(service.default_changes(request.practice))
    return render(request, "triage/protocol.html", {
        "newer_default": newer_default,
        "protocol": protocol, "spec": protocol.spec, "versions": versions,
        "in_force": versions[0].version if versions else None,
        "can_manage": can_manage, "form": form or (ProtocolUploadForm() if can_manage else None),
    }, status=status)
