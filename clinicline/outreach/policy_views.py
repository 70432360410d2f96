"""The sending policy page: the practice's limits on exempt-path messages and the hours it
sends in, in plain words for every member; the practice admin changes them. A change is
audited in the same transaction, and applies to every message decided from then on
(deferred ones included: they are decided again when their hours open)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action, AuditEvent
from clinicline.audit.service import record
from clinicline.outreach import decisions
from clinicline.outreach.decision_models import SendingPolicy
from clinicline.outreach.forms import SendingPolicyForm
from clinicline.practices.models import Practice

FIELDS = ("per_day", "per_week", "window_start", "window_end")


def _initial(policy: SendingPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in FIELDS}


def _page(request: PracticeRequest, form: SendingPolicyForm | None = None,
          status: int = 200) -> HttpResponse:
    policy = decisions.policy_for(request.practice)
    can_manage = allows(request.membership.role, Perm.MANAGE_PRACTICE)
    if can_manage and form is None:
        form = SendingPolicyForm(initial=_initial(policy))
    changed = (AuditEvent.objects.filter(practice_id=request.practice.pk,
                                         action=Action.SENDING_POLICY).last()
               if policy.pk else None)
    return render(request, "outreach/policy.html", {
        "policy": policy, "form": form if can_manage else None, "changed": changed},
        status=status)


@member_view()
@require_GET
def policy(request: PracticeRequest) -> HttpResponse:
    return _page(request)


@member_view(Perm.MANAGE_PRACTICE)
@require_POST
def edit(request: PracticeRequest) -> HttpResponse:
    form = SendingPolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    changed = save_policy(request.practice, form.cleaned_data, request=request)
    messages.success(request, "Sending policy saved: it applies to every message decided "
                              "from now on." if changed else "Nothing changed.")
    return redirect("outreach:policy", practice=request.practice.slug)


def save_policy(practice: Practice, values: dict[str, Any], *,
                request: HttpRequest | None = None) -> list[str]:
    """Apply the changed values (the first change creates the practice's row), audited in
    the same transaction; the names of the fields that changed."""
    with transaction.atomic():
        found = SendingPolicy.objects.select_for_update().filter(practice=practice).first()
        current = found or decisions.policy_for(practice)  # no row: the defaults
        changed = [name for name in FIELDS if getattr(current, name) != values[name]]
        if not changed:
            return []
        # get_or_create: two admins saving the first change at once make one row.
        policy = found or SendingPolicy.objects.get_or_create(practice=practice)[0]
        for name in FIELDS:
            setattr(policy, name, values[name])
        policy.full_clean()
        policy.save()
        record(Action.SENDING_POLICY, request=request, practice=practice, obj=policy,
               fields=changed, reason=describe(policy))
    return changed


def describe(policy: SendingPolicy) -> str:
    """ "1 a day, 3 a week, 08:00-21:00": what the audit row says was set."""
    return (f"{policy.per_day} a day, {policy.per_week} a week, "
            f"{policy.window_start:%H:%M}-{policy.window_end:%H:%M}")
