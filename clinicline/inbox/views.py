"""The secure inbox: team queues (PHI-free lists), the message page (every opening a read
receipt and an audit event), and one small POST view per action.

A message the member may not open is a 404, exactly as one that does not exist; the lists
show clear columns only, so listing decrypts no content and needs no audit.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.inbox import work
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.models import Outcome as MessageOutcome
from clinicline.inbox.routing import DEFAULT_RULES, rules
from clinicline.inbox.visibility import (
    can_open,
    can_receive,
    in_queue,
    is_clinical_role,
    queues_for,
    sees_queue,
    visible,
)
from clinicline.intake.service import call_types_for
from clinicline.intake.service import version_of as call_types_version
from clinicline.outbox.service import opted_out
from clinicline.outreach import replies
from clinicline.practices.models import Team
from clinicline.practices.templatetags.practice_time import local_time
from clinicline.triage.service import version_of as protocol_version
from clinicline.triage.spec import Priority

PAGE_SIZE = 50
POLL_SECONDS = 10
FRAGMENT_HEADER = "X-Clinicline-Fragment"  # inbox.js reloads the page on any other answer
# Emergencies first, then urgent, then routine; newest first within each.
URGENCY = Case(When(priority=Priority.EMERGENCY, then=Value(0)),
               When(priority=Priority.URGENT, then=Value(1)), default=Value(2),
               output_field=IntegerField())
LISTED = ("id", "practice_id", "team_id", "priority", "call_type", "status", "source",
          "created_at", "claimed_by__username")
STATUS_TABS = {"open": (MessageStatus.NEW, MessageStatus.CLAIMED),
               "closed": (MessageStatus.CLOSED,)}


@member_view()
def routing_rules(request: PracticeRequest) -> HttpResponse:
    """The routing rules in force, read-only: the practice's own, or the defaults."""
    own = rules(request.practice)
    return render(request, "inbox/routing.html", {
        "rules": [(r.call_type, r.priority, r.get_when_display(), r.team.name) for r in own]
        or [(r.call_type, r.priority, r.when, r.team_slug) for r in DEFAULT_RULES],
        "defaults": not own,
    })


@member_view()
def index(request: PracticeRequest) -> HttpResponse:
    """The queues this member works, with counts; for clinical staff also any other queue
    holding clinical messages (routing never strands one where nobody may open it)."""
    membership: Membership = request.membership
    counts = {row["team"]: row for row in visible(membership)
              .filter(status__in=STATUS_TABS["open"]).values("team")
              .annotate(new=Count("pk", filter=Q(status=MessageStatus.NEW)), open=Count("pk"))}
    own = queues_for(membership)
    others = [t for t in Team.objects.filter(pk__in=counts, practice=request.practice)
              .order_by("name") if t not in own]
    rows = [(team, counts.get(team.pk, {}).get("new", 0), counts.get(team.pk, {}).get("open", 0))
            for team in [*own, *others]]
    return render(request, "inbox/index.html", {"rows": rows, "others": others})


@member_view()
def queue(request: PracticeRequest, team: str) -> HttpResponse:
    """One team's queue: PHI-free rows, polled by htmx (as a passive request)."""
    membership: Membership = request.membership
    found = Team.objects.filter(practice=request.practice, slug=team).first()
    if found is None or not (sees_queue(membership.role, found.work)
                             or is_clinical_role(membership.role)):
        raise Http404("No such page.")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    tab = request.GET.get("status", "") if request.GET.get("status") in STATUS_TABS else "open"
    page = Paginator(_listed(membership, found, tab), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(request, page.object_list)
    context = {"team": found, "page": page, "rows": rows, "tab": tab,
               "poll_seconds": POLL_SECONDS, "tabs": list(STATUS_TABS)}
    if request.headers.get("HX-Request"):
        response = render(request, "inbox/_queue_rows.html", context)
        response[FRAGMENT_HEADER] = "queue"
        return response
    return render(request, "inbox/queue.html", context)


def _listed(membership: Membership, team: Team, tab: str) -> QuerySet[Message]:
    listed = in_queue(membership, team).filter(status__in=STATUS_TABS[tab])
    listed = listed.select_related("claimed_by").only(*LISTED)  # clear columns only
    if tab == "open":
        return listed.order_by(URGENCY, "-created_at", "pk")
    return listed.order_by("-created_at", "pk")


class Row(NamedTuple):
    """One line of a queue, as text: clear columns only."""

    href: str
    priority: str
    call_type: str
    received: str
    age: str
    status: str
    claimed_by: str
    source: str


def _rows(request: PracticeRequest, listed: Iterable[Message]) -> list[Row]:
    # Built here rather than with template tags: a page is fifty rows of eight cells, and
    # reverse(), |date and |timesince per cell were most of the page's server time.
    labels = {t.slug: t.label for t in call_types_for(request.practice).call_types}
    zero = str(uuid.UUID(int=0))
    link = reverse("inbox:message", kwargs={"practice": request.practice.slug,
                                            "message_id": zero})
    tz, now = request.practice.tz, timezone.now()
    statuses, sources = dict(MessageStatus.choices), dict(Source.choices)
    return [Row(link.replace(zero, str(m.pk)), m.priority.capitalize(),
                labels.get(m.call_type, m.call_type), local_time(m.created_at, tz),
                age(now - m.created_at), statuses.get(m.status, m.status),
                m.claimed_by.username if m.claimed_by else "", sources.get(m.source, m.source))
            for m in listed]


def age(elapsed: dt.timedelta) -> str:
    minutes = max(int(elapsed.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _openable(request: PracticeRequest, message_id: uuid.UUID) -> Message:
    """The message, if this member may open it; else 404 (and an audit of the refusal when
    the message exists in this practice)."""
    message = (Message.objects.select_related("team", "claimed_by", "closed_by")
               .filter(practice=request.practice, pk=message_id).first())
    if message is None:
        raise Http404("No such page.")
    if not can_open(request.membership, message):
        record(Action.DENIED, request=request, practice=request.practice, obj=message,
               patient=message.patient_id or "", outcome=Outcome.DENIED)
        raise Http404("No such page.")
    return message


@member_view()
def message(request: PracticeRequest, message_id: uuid.UUID) -> HttpResponse:
    """Opening a message: its content, triage, notes and read receipts; every GET is a read
    receipt and an audit VIEW."""
    found = _openable(request, message_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    work.open_for_reading(request.membership, found, request=request)
    return render(request, "inbox/message.html", _message_context(request, found))


def _message_context(request: PracticeRequest, message: Message) -> dict[str, Any]:
    membership: Membership = request.membership
    types = call_types_version(request.practice, message.call_type_version)
    call_type = types.get(message.call_type) if types else None
    fields = call_type.fields if call_type else ()
    labels = {f.name: f.label for f in fields}
    protocol = protocol_version(request.practice, message.protocol_version)
    questions = protocol.spec.questions if protocol else ()
    texts = {q.id: q.text for q in questions}
    members = Membership.objects.filter(practice=request.practice, user__is_active=True)
    return {
        "message": message, "call_type_label": call_type.label if call_type else "",
        "fields": [(labels.get(k, k.replace("_", " ")), v)
                   for k, v in in_order(message.fields, [f.name for f in fields])],
        "answers": [(texts.get(q, q), a)
                    for q, a in in_order(message.answers, [q.id for q in questions])],
        "notes": message.notes.select_related("author"),
        "receipts": message.receipts.select_related("user"),
        "teams": [t for t in Team.objects.filter(practice=request.practice).order_by("name")
                  if can_receive(t, message)],
        "members": [m for m in members.select_related("user").order_by("user__username")
                    if can_open(m, message)],
        "outcomes": MessageOutcome.choices,
        "can_claim": message.status == MessageStatus.NEW,
        "can_close": message.status == MessageStatus.NEW or (
            message.status == MessageStatus.CLAIMED and message.claimed_by_id == request.user.pk),
        "can_view_patient": allows(membership.role, Perm.VIEW_PATIENT),
        **_reply_context(message),
    }


def _reply_context(message: Message) -> dict[str, Any]:
    """What the conversation's reply form needs: the number's state, and the approved
    templates (rendered as they would go)."""
    number = replies.conversation_number(message)
    if not number or message.status == MessageStatus.CLOSED:
        return {"can_reply": False}
    stopped = opted_out(message.practice, number)
    return {"can_reply": stopped is None, "opted_out_at": stopped.at if stopped else None,
            "reply_templates": replies.reply_templates(message.practice, message.language
                                                       if message.language == "es" else "en")}


def in_order(values: dict[str, Any], order: Sequence[str]) -> list[tuple[str, Any]]:
    """``values`` in the order the message's own versions give (the call type's fields, the
    protocol's questions); a name they do not know comes last, as stored."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(values.items(), key=lambda item: rank.get(item[0], len(rank)))


Step = Callable[[PracticeRequest, Message], str]


def action(step: Step) -> Callable[..., HttpResponse]:
    """A POST-only view around one work step: 404 if the message is not the member's to
    open, 400 for bad input, 409 for a lost race, else back to the message (or the queue
    when the member may no longer open it) with what was done."""

    @member_view()
    @functools.wraps(step)
    def view(request: PracticeRequest, message_id: uuid.UUID) -> HttpResponse:
        found = _openable(request, message_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            done = step(request, found)
        except (work.Refused, work.Conflict) as exc:
            status = 400 if isinstance(exc, work.Refused) else 409
            return render(request, "inbox/refused.html", {"message": found, "problem": str(exc)},
                          status=status)
        messages.success(request, done)
        slug = request.practice.slug
        if found.status != MessageStatus.CLOSED and can_open(request.membership, found):
            return redirect("inbox:message", practice=slug, message_id=found.pk)
        return redirect(reverse("inbox:queue", kwargs={"practice": slug, "team": found.team.slug})
                        if sees_queue(request.membership.role, found.team.work)
                        else reverse("inbox:index", kwargs={"practice": slug}))

    return view


@action
def claim(request: PracticeRequest, message: Message) -> str:
    work.claim(request.membership, message, request=request)
    return "You have claimed this message."


@action
def reassign(request: PracticeRequest, message: Message) -> str:
    work.reassign(request.membership, message, team_id=request.POST.get("team"),
                  user_id=request.POST.get("member"), request=request)
    return "Reassigned."


@action
def note(request: PracticeRequest, message: Message) -> str:
    work.add_note(request.membership, message, request.POST.get("body", ""), request=request)
    return "Note added."


@action
def reply(request: PracticeRequest, message: Message) -> str:
    """Text the patient back: an approved template, or free words the PHI guard passes."""
    chosen = request.POST.get("template", "")
    try:
        body = (replies.template_body(message.practice, chosen,
                                      "es" if message.language == "es" else "en")
                if chosen else request.POST.get("body", ""))
        replies.staff_reply(request.membership, message, body, template=chosen,
                            request=request)
    except replies.ReplyRefused as exc:
        raise work.Refused(str(exc)) from None
    return "Reply queued: it goes to the patient's phone in a moment."


@action
def close(request: PracticeRequest, message: Message) -> str:
    work.close(request.membership, message, request.POST.get("outcome", ""), request=request)
    return "Message closed."
