"""A drill's call, through the real intake: the agent console's or the IVR's ``take_message``
(triage by the practice's protocol, routing by its rules and office hours, the page), or a
text through the inbound text path; then the escalation, run by the worker's own jobs on
the drill's clock, acknowledged when the scenario's provider acknowledges. And a return
call: the console's identity check, and what the caller is told."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest

from clinicline.drills.scenario import Scenario
from clinicline.drills.world import DrillRefused, World
from clinicline.inbox.models import Message, Source
from clinicline.inbox.visibility import is_clinical, role_may_open
from clinicline.intake import identity, ivr, texts
from clinicline.intake.forms import form_for
from clinicline.intake.models import InboundText
from clinicline.intake.scripts import advice_keys
from clinicline.intake.service import call_types_for, scripts_for, take_message
from clinicline.oncall import pages
from clinicline.oncall.models import Page, PageEvent
from clinicline.outbox.models import Status

# How long a drill follows an escalation that nobody acknowledges before it gives up.
HORIZON = dt.timedelta(hours=6)
SOURCES = {"agent": Source.AGENT, "ivr": Source.IVR}


def fields_of(call_type: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The scenario's fields, cleaned by the call type's own form (as the console does)."""
    form = form_for(call_type)(data=given)
    if not form.is_valid():
        wrong = ", ".join(sorted(form.errors))
        raise DrillRefused(f"the call type {call_type.slug!r} refuses the fields: {wrong}")
    return dict(form.cleaned_data)


def take(world: World, scenario: Scenario) -> Message:
    """The call taken as its channel takes it, at the drill's now."""
    practice = world.practice
    if scenario.get("channel") == "sms":
        return text_in(world, scenario)
    call_type = call_types_for(practice).get(scenario.get("call_type"))
    if call_type is None:
        raise DrillRefused(f"the practice has no call type {scenario.get('call_type')!r}")
    fields = fields_of(call_type, dict(scenario.get("fields")))
    words = scripts_for(practice)
    channel = scenario.get("channel")
    said = ivr.heard_greeting(practice, words) if channel == "ivr" else (
        words.text("emergency"),)
    return take_message(practice, call_type, fields, source=SOURCES[channel],
                           at=world.clock.now(),
                           answers=dict(scenario.get("answers") or {}),
                           caller_number=scenario.get("caller_number", ""), said=said,
                           taken_by=world.member("agent") if channel == "agent" else None)


def text_in(world: World, scenario: Scenario) -> Message:
    """A call that arrives as a text: the caller's words, through the inbound text path."""
    body = " ".join(str(v) for v in (scenario.get("fields") or {}).values())
    at = world.clock.now()
    texts.receive_text(world.practice.pk, message_sid="SM" + uuid.uuid4().hex,
                       sender=scenario.get("caller_number", ""), body=body, at=at)
    world.texts += list(InboundText.objects.filter(
        practice=world.practice, received_at=at).values_list("pk", flat=True))
    world.worker_pass()
    message = (Message.objects.filter(practice=world.practice, source=Source.SMS,
                                      created_at__gte=world.started).order_by("-created_at")
               .first())
    if message is None:
        raise DrillRefused("the text opened no message")
    return message


def shown(world: World, message: Message) -> list[str]:
    """What the console showed or the IVR said for this call: its words to the caller, the
    protocol's script and its advice in the practice's words."""
    words = scripts_for(world.practice, message.language, message.scripts_version or 0)
    triage = message.triage
    return [*triage.get("said", []), triage.get("script", ""),
            *(words.text(key) for key in advice_keys(triage.get("actions", [])))]


def first_page_sent(world: World) -> dt.datetime | None:
    sent = (world.deliveries().filter(purpose=pages.PURPOSE, sent_at__isnull=False)
            .exclude(idempotency_key__contains=":alarm:")
            .filter(status__in=[Status.SENT, Status.DELIVERED]).order_by("sent_at").first())
    return sent.sent_at if sent else None


def escalate(world: World, page: Page, saved: dt.datetime, acks_after: int | None) -> None:
    """The page's steps on the drill clock; the first member notified acknowledges by link
    ``acks_after`` seconds after the message was saved (never, for None)."""
    world.pages.append(page.pk)
    if acks_after is not None:
        world.run_until(saved + dt.timedelta(seconds=acks_after))
        notified = (PageEvent.objects.filter(page=page, kind=PageEvent.Kind.NOTIFIED)
                    .exclude(member=None).order_by("at", "pk").first())
        page.refresh_from_db()
        if notified is None or notified.member is None:
            world.notes.append("nobody was notified, so nobody could acknowledge")
        elif page.state == Page.State.OPEN:
            pages.acknowledge(page, notified.member, via="link", now=world.clock.now())
    world.run_until(saved + HORIZON, idle_stop=True)
    page.refresh_from_db()


def run_call(world: World, scenario: Scenario) -> dict[str, Any]:
    """Take the call and follow it; what was measured, by expectation key."""
    message = take(world, scenario)
    # The moment the row was written, on the drill's clock (both clocks run from the start).
    saved = world.clock.start + (message.created_at - world.started)
    page = Page.objects.filter(message=message).first()
    measured: dict[str, Any] = {
        "priority": message.priority, "advise_emergency_services": message.advise_911,
        "escalated": page is not None, "routed_to": message.team.slug,
        "not_visible_to": [role for role in scenario.expect.get("not_visible_to", [])
                           if role_may_open(role, message.team.work, is_clinical(message))],
        "script_contains": shown(world, message), "first_page_within_s": None,
        "alarm_if_no_ack": False}
    if page is not None:
        escalate(world, page, saved, scenario.get("provider_acks_after_s"))
        first = first_page_sent(world)
        measured["first_page_within_s"] = (first - saved).total_seconds() if first else None
        measured["alarm_if_no_ack"] = page.alarmed_at is not None
        world.notes.append(f"page {page.state}" + (
            f" after {(page.acknowledged_at - saved).total_seconds():.0f} s"
            if page.acknowledged_at else ""))
    return measured


def run_return_call(world: World, scenario: Scenario) -> dict[str, Any]:
    """The console's identity check for the caller; what they were told."""
    offered = scenario.get("identity")
    given, family = offered["name_given"].split(maxsplit=1)
    claim = identity.Claim(given_name=given, family_name=family,
                           date_of_birth=dt.date.fromisoformat(offered["date_of_birth_given"]),
                           phone=offered.get("phone_given", scenario.get("caller_number", "")),
                           mrn=offered.get("mrn_given", ""))
    request = HttpRequest()  # the console's request: the member, from this machine
    request.user = world.member("agent")
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    checked = identity.verify_caller(world.practice, claim, request=request)  # type: ignore[arg-type]
    said = [] if checked.verified else [
        scripts_for(world.practice).text("return_call_refusal")]
    world.notes.append("identity verified" if checked.verified else "identity not verified")
    return {"disclosed": checked.verified, "script_contains": said}
