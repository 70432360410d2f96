"""The page's secure link: sign-in and MFA (the middleware's), then the page's state and
the buttons to acknowledge it, pass it on, or resolve it with an outcome.

The link names only the page (a random token, hashed in the database); what the page is
about is shown only to a member of its practice whose role may open the message, and every
open of the link is audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clinicline.accounts.access import AuthenticatedRequest
from clinicline.accounts.models import Membership
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.visibility import can_open
from clinicline.oncall import pages
from clinicline.oncall.models import Page

OUTCOME_MAX = 500


def _page_for(request: AuthenticatedRequest, token: str) -> tuple[Page, Membership]:
    page = pages.by_link(token)
    membership = None if page is None else Membership.objects.filter(
        user=request.user, practice_id=page.practice_id).first()
    if page is None or membership is None or not can_open(membership, page.message):
        # Expired, unknown, or not this member's to see: the same answer for each.
        raise Http404("This link has expired or is not yours to open.")
    return page, membership


@login_required
@require_http_methods(["GET", "POST"])
def page_link(request: AuthenticatedRequest, token: str) -> HttpResponse:
    page, membership = _page_for(request, token)
    # The practice's frame (its bar, its zone), as on any of its pages.
    request.practice, request.membership = page.practice, membership  # type: ignore[attr-defined]
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "acknowledge":
            pages.acknowledge(page, request.user, via="link")
            return redirect(reverse("inbox:message", kwargs={
                "practice": page.practice.slug, "message_id": page.message_id}))
        if action == "pass":
            pages.pass_on(page, request.user)
            return redirect(request.path)
        if action == "resolve":
            outcome = request.POST.get("outcome", "").strip()
            if not outcome or len(outcome) > OUTCOME_MAX:
                error, status = f"Say what was done, in 1 to {OUTCOME_MAX} characters.", 400
            elif not pages.resolve(page, request.user, outcome):
                error, status = "Only an acknowledged page can be resolved.", 409
            else:
                return redirect(request.path)
        else:
            error, status = "Choose acknowledge, pass or resolve.", 400
    else:
        record(Action.PAGE_LINK, request=request, practice=page.practice_id, obj=page)
    page.refresh_from_db()
    return render(request, "oncall/page.html", {
        "page": page, "practice": page.practice, "membership": membership,
        "events": page.events.select_related("member"), "error": error,
        "message_url": reverse("inbox:message", kwargs={
            "practice": page.practice.slug, "message_id": page.message_id}),
    }, status=status)
