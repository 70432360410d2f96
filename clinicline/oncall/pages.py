"""Paging: an urgent message escalates until someone acknowledges it, or alarms.

``open_for(message)`` opens the message's page (once: a page per message) on the practice's
escalation policy, copied into the page, with its first step due now. The worker's
``run_due`` claims each page whose step is due and runs it: the step's members are found
(whoever it names, now), each is notified by their own plan (which method, after how
long) through the outbox, and the page waits the step's seconds; a step that reaches
nobody records why and moves on at once. After the last step of the last round, the
practice's fallback phone is called and texted and the page is alarmed, which every
console and inbox page of the practice shows until someone owns it.

An acknowledgement (the link's button, an SMS reply "1" or "ACK", or the page's code)
stops everything still pending at once: the page's next step, and its notifications still
queued in the outbox. Notifications say nothing about the patient: the practice, "URGENT",
a link that needs sign-in and MFA, and how to reply.

Durable by construction: a page is a row with ``next_step_at``; claiming it moves that
time ahead by a lease, so a worker that dies mid-step delays the page by the lease and
never loses it, and each notification's idempotency key (page, round, step, member,
method) means a step run twice notifies nobody twice.

Several pages texted to one number inside a minute go as one text, the first at once and
the rest when that minute ends (``bundles``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinicline import claims, wake
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.inbox.models import Message
from clinicline.inbox.visibility import queue_roles
from clinicline.oncall import bundles, contacts, schedules
from clinicline.oncall.bundles import link
from clinicline.oncall.models import ContactMethod, Page, PageEvent, Policy
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Channel, Delivery, Status
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Practice, Team
from clinicline.triage.spec import Priority

log = logging.getLogger("clinicline.oncall.pages")

PAGED = frozenset({Priority.URGENT, Priority.EMERGENCY})
PURPOSE = "page"
LINK_TTL = dt.timedelta(hours=24)
LEASE = dt.timedelta(seconds=30)   # a step takes milliseconds; a dead worker delays this long
BATCH = 20
SWEEP_WINDOW = dt.timedelta(days=1)
FAILOVER_ROUND = 99  # the round number a fail-over's notifications are keyed under
# Link tokens and codes: no look-alike characters, and nothing the outbox's last screen
# could take for a record number (never seven digits in a row).
TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (an alphabet)
TOKEN_LENGTH = 12
# A page's reply code is 2000-9999: the outbox's last screen takes a bare 18xx or 19xx for
# a birth year and would withhold the text.
ACK_WORDS = frozenset({"1", "ACK"})  # never YES: that is the carriers' opt-in
PASS_WORDS = frozenset({"E", "5", "PASS"})
PAGE_PARAM, MEMBER_PARAM = "page", "member"  # a voice page's call step
# Used when the practice has not written a policy of its own.
DEFAULT_POLICY: dict[str, Any] = {
    "name": "Default (on call, then backup, then the practice manager)", "repeat": 2,
    "steps": [{"target": Step.Target.ON_CALL, "wait_s": 120},
              {"target": Step.Target.BACKUP, "wait_s": 120},
              {"target": Step.Target.MANAGER, "wait_s": 120}],
}


# --- opening ----------------------------------------------------------------------------------

def needs_page(message: Message) -> bool:
    """Urgent and emergency messages; and every clinical message taken after hours where
    the practice asks for that."""
    return message.priority in PAGED or (
        message.clinical and not message.office_open
        and message.practice.page_clinical_after_hours)


def snapshot(practice: Practice) -> dict[str, Any]:
    """The practice's default policy as it is now, in the page's own copy."""
    policy = (Policy.objects.for_practice(practice).filter(is_default=True)
              .prefetch_related("steps").first())
    if policy is None or not policy.steps.exists():
        return DEFAULT_POLICY
    return {"name": policy.name, "repeat": policy.repeat,
            "steps": [{"target": s.target, "member": s.member_id, "team": s.team_id,
                       "wait_s": s.wait_s} for s in policy.steps.all()]}


def open_for(message: Message, now: dt.datetime | None = None) -> Page | None:
    """The message's page, opened now if it needs one and has none yet (None if it needs
    none). Its first step is due at once."""
    if not needs_page(message):
        return None
    existing = Page.objects.filter(message=message).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    page = Page(practice_id=message.practice_id, message=message,
                policy=snapshot(message.practice), next_step_at=now, opened_at=now,
                link_token=token, link_hash=hashed(token), link_expires_at=now + LINK_TTL,
                code=f"{secrets.randbelow(8000) + 2000}")  # never 18xx or 19xx (above)
    try:
        with transaction.atomic():
            page.save(force_insert=True)
            event(page, PageEvent.Kind.OPENED, now, detail=page.policy["name"][:200])
            record(Action.PAGE_OPEN, practice=message.practice_id, obj=page,
                   reason=f"{message.priority} message")
            wake.notify_workers()  # on commit: a worker takes the step if this cannot
    except IntegrityError:  # opened by another path at the same moment
        return Page.objects.get(message=message)
    # The first step at once, once this commits (a worker would take it within its poll;
    # this takes it now). Claimed like any step, so a worker racing it does nothing twice.
    transaction.on_commit(lambda: run_due(limit=1, only=page.pk))
    return page


def sweep(now: dt.datetime | None = None) -> int:
    """The net under ``open_for``: any urgent message of the last day, still open, that has
    no page (whatever path saved or re-triaged it) gets one."""
    now = now or timezone.now()
    recent = Message.objects.filter(created_at__gte=now - SWEEP_WINDOW, page__isnull=True,
                                    closed_at__isnull=True)
    unpaged = recent.filter(Q(priority__in=PAGED) | Q(
        clinical=True, office_open=False, practice__page_clinical_after_hours=True))
    opened = 0
    for message in unpaged.select_related("practice")[:BATCH]:
        log.warning("message %s had no page; opening one now", message.pk)
        opened += open_for(message, now) is not None
    return opened


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def event(page: Page, kind: str, at: dt.datetime, **details: Any) -> PageEvent:
    return PageEvent.objects.create(page=page, kind=kind, at=at, **details)


# --- the worker -------------------------------------------------------------------------------

def run_due(limit: int = BATCH, now: dt.datetime | None = None, only: Any = None) -> int:
    """The worker's job: each open page whose next step is due, claimed on a lease, one
    step each (``only``: that page alone)."""
    now = now or timezone.now()
    due = (Page.objects.filter(state=Page.State.OPEN, next_step_at__lte=now)
           .order_by("next_step_at").select_related("practice", "message"))
    if only is not None:
        due = due.filter(pk=only)
    claimed = claims.claim_due(due, limit, next_step_at=now + LEASE)
    return claims.each(claimed, lambda page: run_step(page, now), log, "page step")


def run_step(page: Page, now: dt.datetime) -> int:
    """One step of a claimed page, in one transaction with its outcome (an ack that landed
    after the claim wins: the page is re-read under the same conditions)."""
    with transaction.atomic():
        mine = Page.objects.filter(pk=page.pk, state=Page.State.OPEN, step=page.step,
                                   round=page.round)
        steps, repeat = page.policy["steps"], page.policy["repeat"]
        if page.round >= repeat or not steps:
            if mine.update(state=Page.State.ALARMED, alarmed_at=now, next_step_at=None) != 1:
                return 0
            alarm(page, now)
            return 1
        step = steps[page.step]
        members = recipients(page, step, now)
        reached = [m for m in members if notify(page, m, now)]
        if not reached:
            why = "nobody to notify" if not members else "nobody has a usable contact method"
            event(page, PageEvent.Kind.UNREACHABLE, now, detail=f"step {page.step + 1}: {why}")
            record(Action.PAGE_UNREACHABLE, practice=page.practice_id, obj=page, reason=why)
        wait = dt.timedelta(seconds=step["wait_s"] if reached else 0)
        last = page.step + 1 >= len(steps)
        updated = mine.update(step=0 if last else page.step + 1,
                              round=page.round + 1 if last else page.round,
                              next_step_at=now + wait)
        if updated != 1:  # acknowledged meanwhile: nothing of this step may stand
            transaction.set_rollback(True)
            return 0
    return 1


def send_bundles() -> int:
    """The worker's ``page-bundles`` job: the texts each number held for its minute, as
    one text each (``bundles``)."""
    return bundles.send_due()


def recipients(page: Page, step: dict[str, Any], now: dt.datetime) -> list[User]:
    """Who the step names, now: active members of the page's practice only."""
    target = step["target"]
    members = Membership.objects.filter(practice_id=page.practice_id, user__is_active=True)
    if target in (Step.Target.ON_CALL, Step.Target.BACKUP):
        users = on_call(page.practice, now, backup=target == Step.Target.BACKUP)
        active = set(members.values_list("user_id", flat=True))
        return [u for u in users if u.pk in active]
    if target == Step.Target.MEMBER:
        found = members.filter(user_id=step.get("member") or 0)
    elif target == Step.Target.TEAM:
        team = Team.objects.filter(pk=step.get("team") or 0,
                                   practice_id=page.practice_id).first()
        found = members.filter(role__in=queue_roles(team.work) if team else [])
    else:
        found = members.filter(role=Role.PRACTICE_MANAGER)
    return [m.user for m in found.select_related("user").order_by("user_id")]


def on_call(practice: Practice, at: dt.datetime, *, backup: bool = False) -> list[User]:
    """Whoever the practice's schedules have on call at ``at``: the primaries (level 1),
    or the backups (any level after it)."""
    found = [shift for schedule in schedules.practice_schedules(practice)
             for shift in schedules.shifts(schedule, at, at + schedules.INSTANT)
             if (shift.level > 1) == backup]
    members: dict[int, User] = {}
    for shift in found:
        members.setdefault(shift.member.pk, shift.member)
    return list(members.values())


def notify(page: Page, user: User, now: dt.datetime) -> bool:
    """Queue the member's notifications of this step; True if any reaches a real method
    (an in-app notice alone does not: nobody may be looking)."""
    real = False
    for delay, method in contacts.plan(user):
        channel = method.kind
        to = str(user.pk) if channel == Channel.IN_APP else method.address
        key = f"page:{page.pk}:{page.round}:{page.step}:{user.pk}:{method.pk}"
        due_at = now + dt.timedelta(seconds=delay)
        # A text to a number that had a page text inside the last minute waits, and goes
        # with the others as one text when that minute ends (``bundles``).
        held = (bundles.hold(page, user, to, key=key, at=due_at, now=now)
                if channel == Channel.SMS else None)
        delivery = None if held else enqueue(
            page.practice, channel=channel, to=to, body=text(page, channel), purpose=PURPOSE,
            idempotency_key=key, due_at=due_at,
            call_step=call_step(page, user) if channel == Channel.VOICE else "")
        when = f"after {delay} s" + (", in the number's bundle" if held else "")
        notified = event(page, PageEvent.Kind.NOTIFIED, now, member=user, channel=channel,
                         delivery=delivery, detail=f"step {page.step + 1}, {when}")
        if held:
            bundles.attach(held, notified)
        record(Action.PAGE_NOTIFY, practice=page.practice_id, obj=page,
               reason=f"{channel} to member {user.pk}, {when}")
        real = real or channel != Channel.IN_APP
    return real


def call_step(page: Page, user: User) -> str:
    """A voice page asks for the member's PIN before it says anything (``oncall.voice``):
    its call starts at the step that names the page and the member, ids only."""
    return urlencode({PAGE_PARAM: page.pk, MEMBER_PARAM: user.pk})


def text(page: Page, channel: str) -> str:
    """What a page says: the practice, how urgent, the link, how to reply. No PHI. (A
    voice page's call asks for the PIN instead; this is what a call that cannot ask says.)"""
    name, level = page.practice.name, page.message.priority.upper()
    if channel == Channel.VOICE:
        # Said only what is true whatever else this member gets: no text may have gone.
        return (f"This is {name}'s answering service. An {level.lower()} message is "
                "waiting for you. Please sign in to clinicline to see and acknowledge it.")
    return (f"{name}: {level} message. Open {link(page)} or reply 1 to acknowledge "
            f"(code {page.code}).")


def alarm(page: Page, now: dt.datetime) -> None:
    """Nobody acknowledged: call and text the practice's fallback phone; the banner shows
    on every console and inbox page until someone owns the message."""
    practice = page.practice
    phone = practice.front_desk_number or practice.callback_number
    for channel in (Channel.VOICE, Channel.SMS):
        body = (f"{practice.name}: an URGENT message has not been acknowledged by anyone "
                "on call. Sign in to clinicline now.")
        delivery = enqueue(practice, channel=channel, to=phone, body=body,
                           purpose=PURPOSE, idempotency_key=f"page:{page.pk}:alarm:{channel}")
        event(page, PageEvent.Kind.ALARMED, now, channel=channel, delivery=delivery,
              detail="the practice's fallback phone")
    record(Action.PAGE_ALARM, practice=page.practice_id, obj=page, outcome=Outcome.FAILURE,
           reason="nobody acknowledged")


# --- acknowledging ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Ack:
    page: Page
    first: bool  # False: it was already owned (by this member or another)


def acknowledge(page: Page, user: User, via: str, now: dt.datetime | None = None) -> Ack:
    """``user`` owns the page: its next step and every notification still queued stop now."""
    now = now or timezone.now()
    with transaction.atomic():
        first = Page.objects.filter(pk=page.pk, state__in=[
            Page.State.OPEN, Page.State.ALARMED]).update(
            state=Page.State.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user,
            next_step_at=None) == 1
        if first:
            cancel_pending(page, now)
            event(page, PageEvent.Kind.ACKNOWLEDGED, now, member=user, channel=via)
            record(Action.PAGE_ACK, actor=user, practice=page.practice_id, obj=page,
                   reason=f"by {via}")
    page.refresh_from_db()
    return Ack(page, first)


def cancel_pending(page: Page, now: dt.datetime) -> int:
    """The page's notifications not yet handed to a vendor never go."""
    keys = Q(idempotency_key__startswith=f"page:{page.pk}:") & ~Q(
        idempotency_key__contains=":alarm:")
    return Delivery.objects.filter(keys, practice_id=page.practice_id,
                                   status=Status.QUEUED).update(
        status=Status.FAILED, due_at=None, error="cancelled: the page was acknowledged")


def pass_on(page: Page, user: User, now: dt.datetime | None = None) -> bool:
    """"E": this member passes; the next step runs now."""
    now = now or timezone.now()
    moved = Page.objects.filter(pk=page.pk, state=Page.State.OPEN).update(next_step_at=now)
    if moved:
        event(page, PageEvent.Kind.PASSED, now, member=user)
        record(Action.PAGE_PASS, actor=user, practice=page.practice_id, obj=page)
    return moved == 1


def resolve(page: Page, user: User, outcome: str, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    page.outcome = outcome
    with transaction.atomic():
        done = Page.objects.filter(pk=page.pk, state=Page.State.ACKNOWLEDGED).update(
            state=Page.State.RESOLVED, resolved_at=now, resolved_by=user)
        if done:
            page.save(update_fields=["outcome"])
            event(page, PageEvent.Kind.RESOLVED, now, member=user)
            record(Action.PAGE_RESOLVE, actor=user, practice=page.practice_id, obj=page,
                   fields=["outcome"])
    return done == 1


def follow_up(now: dt.datetime | None = None) -> int:
    """The worker's job for acknowledged pages not resolved in time: after the practice's
    T minutes, a reminder to whoever acknowledged it; after T2, the backup on call is
    paged too. Each happens once per page (a conditional UPDATE claims it)."""
    now = now or timezone.now()
    done = 0
    acked = Page.objects.filter(state=Page.State.ACKNOWLEDGED).select_related(
        "practice", "message", "acknowledged_by")
    for page in acked.filter(reminded_at__isnull=True)[:BATCH]:
        if overdue(page, page.practice.page_remind_minutes, now) and Page.objects.filter(
                pk=page.pk, reminded_at__isnull=True).update(reminded_at=now):
            done += remind(page, now)
    for page in acked.filter(failed_over_at__isnull=True)[:BATCH]:
        if overdue(page, page.practice.page_failover_minutes, now) and Page.objects.filter(
                pk=page.pk, failed_over_at__isnull=True).update(failed_over_at=now):
            done += fail_over(page, now)
    return done


def overdue(page: Page, minutes: int, now: dt.datetime) -> bool:
    at = page.acknowledged_at
    return at is not None and at + dt.timedelta(minutes=minutes) <= now


def remind(page: Page, now: dt.datetime) -> int:
    owner = page.acknowledged_by
    if owner is None:
        return 0
    with transaction.atomic():
        for delay, method in contacts.plan(owner):
            if method.kind == Channel.VOICE:
                continue  # a reminder is a text or a notice, never a call at 3 a.m.
            to = str(owner.pk) if method.kind == Channel.IN_APP else method.address
            enqueue(page.practice, channel=method.kind, to=to, purpose=PURPOSE,
                    body=(f"{page.practice.name}: the {page.message.priority.upper()} message "
                          f"you acknowledged is not resolved yet. Open {link(page)}"),
                    idempotency_key=f"page:{page.pk}:remind:{method.pk}",
                    due_at=now + dt.timedelta(seconds=delay))
        event(page, PageEvent.Kind.REMINDED, now, member=owner,
              detail=f"not resolved after {page.practice.page_remind_minutes} min")
    return 1


def fail_over(page: Page, now: dt.datetime) -> int:
    """The backup on call is paged as well (the owner keeps the page)."""
    backups = [u for u in on_call(page.practice, now, backup=True)
               if u != page.acknowledged_by]
    with transaction.atomic():
        page.round, page.step = FAILOVER_ROUND, 0  # its own notification keys
        reached = [u for u in backups if notify(page, u, now)]
        event(page, PageEvent.Kind.FAILED_OVER, now,
              detail=f"not resolved after {page.practice.page_failover_minutes} min: "
                     f"{len(reached)} backup(s) paged" if reached else "no backup on call")
    return 1


def by_link(token: str) -> Page | None:
    """The page a link names, while the link has not expired."""
    page = Page.objects.filter(link_hash=hashed(token)).select_related(
        "practice", "message").first()
    if page is None or page.link_expires_at < timezone.now():
        return None
    return page


def open_pages_for_number(practice_id: int, number: str) -> list[tuple[User, Page]]:
    """The practice's pages that texted this number and are still unowned, newest first,
    each with the member it texted there (one query)."""
    members = ContactMethod.objects.filter(kind=ContactMethod.Kind.SMS, address=number,
                                           verified_at__isnull=False).values("user_id")
    notified = PageEvent.objects.filter(
        kind=PageEvent.Kind.NOTIFIED, channel=Channel.SMS, member_id__in=members,
        page__practice_id=practice_id, page__state__in=[Page.State.OPEN, Page.State.ALARMED],
    ).select_related("member", "page", "page__practice", "page__message").order_by("-at")
    found: dict[Any, tuple[User, Page]] = {}
    for ev in notified:
        if ev.member is not None:
            found.setdefault(ev.page_id, (ev.member, ev.page))
    return list(found.values())


def reply(practice_id: int, number: str, body: str,
          now: dt.datetime | None = None) -> str | None:
    """A text to the practice from a member's verified number answering one of its pages:
    the reply to send back, or None when the text is not about a page (then it is an
    ordinary text)."""
    words = body.strip().upper().replace(".", " ").split()
    if not words or words[0] not in ACK_WORDS | PASS_WORDS:
        return None
    candidates = open_pages_for_number(practice_id, number)
    if not candidates:
        return None
    if len(words) > 1:
        candidates = [(u, p) for u, p in candidates if p.code == words[1]]
    elif len(candidates) > 1:
        codes = ", ".join(p.code for _, p in candidates)
        return f"You have {len(candidates)} pages open. Reply 1 and the code: {codes}."
    if not candidates:
        return "No open page has that code."
    user, page = candidates[0]
    if words[0] in PASS_WORDS:
        pass_on(page, user, now)
        return "Passed on to the next person on the policy."
    ack = acknowledge(page, user, via=Channel.SMS, now=now)
    if not ack.first:
        return "That page was already acknowledged."
    return f"Acknowledged. Open {link(page)} for the message."


# --- what the console and the inbox show --------------------------------------------------------

def page_of(message: Message) -> Page | None:
    return Page.objects.filter(message=message).first()


def timeline(page: Page) -> list[PageEvent]:
    """The page's events, oldest first, with their members, for "paged Dr. Osei 02:14:05 ·
    acknowledged 02:14:40"."""
    return list(page.events.select_related("member").exclude(
        kind=PageEvent.Kind.NOTIFIED, channel=Channel.IN_APP))


def alarmed(practice: Practice) -> list[Page]:
    """The practice's pages nobody acknowledged: every console and inbox page shows them
    until someone owns the message."""
    return list(Page.objects.for_practice(practice).filter(state=Page.State.ALARMED)
                .select_related("message").order_by("alarmed_at"))


@dataclass(frozen=True)
class OnCallNow:
    primary: list[User]
    backup: list[User]

    def __bool__(self) -> bool:
        return bool(self.primary or self.backup)


def on_call_now(practice: Practice, at: dt.datetime | None = None) -> OnCallNow:
    at = at or timezone.now()
    return OnCallNow(on_call(practice, at), on_call(practice, at, backup=True))
