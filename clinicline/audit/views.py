"""The compliance page: the practice's audit trail, filtered and paged; CSV export and a
chain check for the compliance officer. Looking at the trail is itself audited.

The page names people and actions in words (a member's username and role, "viewed PHI", a
record as "patient 3f2a9c1b") from the row's own clear columns and the practice's roster:
an audit row holds no PHI, and labelling one decrypts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinicline.accounts.access import PracticeRequest, member_view, reauth_required
from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, Role, allows
from clinicline.audit.export import csv_file
from clinicline.audit.forms import EventFilter
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.audit.service import record
from clinicline.audit.verify import verify

PAGE_SIZE = 100
SHORT_REF = 8  # characters of an id shown: enough to tell records apart on one page


def _filter(request: PracticeRequest) -> EventFilter:
    members = list(Membership.objects.filter(practice=request.practice)
                   .order_by("user__username").values_list("user_id", "user__username"))
    return EventFilter(request.GET, members=members, tz=request.practice.tz)


def _events(request: PracticeRequest, form: EventFilter) -> QuerySet[AuditEvent]:
    members = Membership.objects.filter(practice=request.practice).values("user_id")
    trail = AuditEvent.objects.for_practice(request.practice.pk, members)
    return form.apply(trail)


@member_view(Perm.VIEW_AUDIT)
def events(request: PracticeRequest) -> HttpResponse:
    form = _filter(request)
    page = None
    if form.is_valid():
        viewed = record(Action.AUDIT_VIEW, request=request, practice=request.practice,
                        reason=form.describe())
        # Up to, not including, the event recording this look at them.
        rows = _events(request, form).filter(seq__lt=viewed.seq).order_by("-seq")
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/events.html", {
        "form": form, "page": page, "rows": described(request, page) if page else [],
        "officer": allows(request.membership.role, Perm.EXPORT_AUDIT),
    }, status=200 if page is not None else 400)


@dataclass(frozen=True)
class Row:
    """One event as a person reads it."""

    event: AuditEvent
    who: str
    role: str
    action: str
    record: str
    patient: str     # the short reference; the full opaque id filters by it
    fields: str
    outcome: str


def described(request: PracticeRequest, events: Iterable[AuditEvent]) -> list[Row]:
    events = list(events)
    roles = dict(Membership.objects.filter(practice=request.practice,
                                           user_id__in={e.actor_id for e in events})
                 .values_list("user_id", "role"))
    actions, outcomes = dict(Action.choices), dict(Outcome.choices)
    return [Row(e, e.actor_label or ("the system" if e.actor_id is None else "former member"),
                Role(roles[e.actor_id]).label if e.actor_id in roles else "",
                actions.get(e.action, e.action), record_of(e), e.patient_id[:SHORT_REF],
                fields_of(e), outcomes.get(e.outcome, e.outcome))
            for e in events]


def model_of(event: AuditEvent) -> type[Model] | None:
    try:
        return apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        return None


def record_of(event: AuditEvent) -> str:
    """ "message 3f2a9c1b": the kind of record and a short reference, never its content
    (nothing when the record is the patient: the patient's own reference says it)."""
    if not event.object_type or event.object_id == event.patient_id:
        return ""
    model = model_of(event)
    kind = model._meta.verbose_name if model is not None else event.object_type
    return f"{kind} {event.object_id[:SHORT_REF]}".strip()


def fields_of(event: AuditEvent) -> str:
    """The field names touched, as the record's form labels them ("date of birth")."""
    model = model_of(event)
    return ", ".join(label_of(model, name.strip()) for name in event.fields.split(",")
                     if name.strip())


def label_of(model: type[Model] | None, name: str) -> str:
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        field = None  # a sealed member, or a name the record no longer has
    return str(getattr(field, "verbose_name", "") or name.replace("_", " "))


@member_view(Perm.EXPORT_AUDIT)
@reauth_required
def export(request: PracticeRequest) -> HttpResponse | FileResponse:
    """The filtered trail as CSV, oldest first; the export is recorded once it is made."""
    form = _filter(request)
    if not form.is_valid():
        messages.error(request, "Correct the filters, then export again.")
        events_url = reverse("audit:events", kwargs={"practice": request.practice.slug})
        return redirect(f"{events_url}?{request.GET.urlencode()}")
    # Made in full first, so the event records an export that exists, with its size; it
    # cannot list itself, since it is written after the last row.
    produced, count = csv_file(_events(request, form).order_by("seq"), request.practice.tz)
    record(Action.EXPORT, request=request, practice=request.practice,
           reason=f"{form.describe()}; {count} events")
    name = f"audit-{request.practice.slug}-{timezone.localdate(timezone=request.practice.tz)}"
    return FileResponse(produced, as_attachment=True, filename=f"{name}.csv",
                        content_type="text/csv; charset=utf-8")


@member_view(Perm.EXPORT_AUDIT)
@require_POST
def verify_chain(request: PracticeRequest) -> HttpResponse:
    """Recompute the whole chain on demand: it takes seconds on a large install, too long
    to do on every page view."""
    verdict = verify()
    if verdict.intact:
        # No count: the chain is install-wide, and its size is other practices' business.
        messages.success(request, "Chain intact: every event verified.")
    else:
        messages.error(request, f"Chain broken at #{verdict.broken_seq}: {verdict.problem}. "
                                "Report this as a security incident.")
    return redirect("audit:events", practice=request.practice.slug)
