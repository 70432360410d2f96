"""The templates page: every kind of message the practice sends, its live words with a
preview, and (for the practice admin) new drafts and their approval. Drafting and
approving are two views; each is audited by the service."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.outreach import service
from clinicline.outreach.forms import TemplateForm
from clinicline.outreach.models import TemplateVersion
from clinicline.outreach.templates import SLOT_HELP, Report


def _kind(purpose: str, channel: str, language: str) -> service.Kind:
    kind = (purpose, channel, language)
    if kind not in service.KINDS:
        raise Http404("No such template.")
    return kind


@member_view()
@require_GET
def index(request: PracticeRequest) -> HttpResponse:
    rows = service.catalogue(request.practice)
    groups = [(purpose, list(items)) for purpose, items in groupby(rows, lambda r: r.purpose)]
    return render(request, "outreach/templates.html", {
        "groups": groups, "can_manage": allows(request.membership.role, Perm.MANAGE_PRACTICE)})


def _detail(request: PracticeRequest, kind: service.Kind, *, form: TemplateForm | None = None,
            refused: Report | None = None, status: int = 200) -> HttpResponse:
    shown = service.overview(request.practice, kind)
    can_manage = allows(request.membership.role, Perm.MANAGE_PRACTICE)
    initial = shown.draft or shown.live
    if can_manage and form is None:
        form = TemplateForm(kind[1], initial={"body": initial.body, "exempt": initial.exempt})
    return render(request, "outreach/template.html", {
        "row": shown, "form": form if can_manage else None, "can_manage": can_manage,
        "refused": refused, "slots": SLOT_HELP,
        "history": service.history(request.practice, kind)}, status=status)


@member_view()
@require_GET
def detail(request: PracticeRequest, purpose: str, channel: str, language: str) -> HttpResponse:
    return _detail(request, _kind(purpose, channel, language))


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def edit(request: PracticeRequest, purpose: str, channel: str, language: str) -> HttpResponse:
    """New words become the next version, a draft: the live words stay until it is approved."""
    kind = _kind(purpose, channel, language)
    form = TemplateForm(channel, request.POST)
    if not form.is_valid():
        return _detail(request, kind, form=form, status=400)
    draft = service.save_draft(request.practice, kind, form.cleaned_data["body"],
                               exempt=form.cleaned_data.get("exempt", False),
                               by=request.user, request=request)
    messages.info(request, f"Saved as draft version {draft.number}. It is not sent until "
                           "it is approved.")
    return redirect("outreach:template", practice=request.practice.slug, purpose=purpose,
                    channel=channel, language=language)


@member_view(Perm.MANAGE_PRACTICE)
def approve(request: PracticeRequest, purpose: str, channel: str, language: str,
            number: int) -> HttpResponse:
    kind = _kind(purpose, channel, language)
    version = get_object_or_404(
        TemplateVersion, template__practice=request.practice, template__purpose=purpose,
        template__channel=channel, template__language=language, number=number)
    if request.method != "POST":  # a POST-only action: its version checked first (404)
        return HttpResponseNotAllowed(["POST"])
    try:
        service.approve(version, by=request.user, request=request)
    except service.Refused as refused:
        return _detail(request, kind, refused=refused.report, status=400)
    messages.success(request, f"Version {version.number} is approved and live.")
    return redirect("outreach:template", practice=request.practice.slug, purpose=purpose,
                    channel=channel, language=language)
