"""Bundling: several pages texted to one number inside a minute go as one text.

A page's text goes at once, on its own, unless its number had a page text (any page of the
practice) in the last 60 s: then it is held, and when the minute that began with that
earlier text ends, one text goes for every held page still unowned ("3 URGENT messages",
the codes and one link). The first text is never delayed; a page acknowledged meanwhile
drops out (if every one was, nothing goes); and the bundle's text begins the number's
next minute.

The moment that counts is when the text would go, its member's rule's delay included. A
number has one minute at a time: a text whose rule puts it before that minute began or
after it ends (while others are held) goes on its own, as it would without bundling.

Durable like the rest of paging: the minute and its held texts are rows (``Bundle``,
``BundleEntry``); the worker's ``page-bundles`` job claims each due bundle with
``claims.claim_due`` and sends it in one transaction with its outcome; the text's
idempotency key is the bundle's, so a bundle sent twice is queued once. Voice, email and
in-app notifications are never bundled.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinicline import claims
from clinicline.accounts.models import User
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.oncall.models import Bundle, BundleEntry, Page, PageEvent
from clinicline.outbox.models import Channel
from clinicline.outbox.service import enqueue
from clinicline.triage.spec import Priority
from clinicline.vault.blind import blind_index

log = logging.getLogger("clinicline.oncall.bundles")

WINDOW = dt.timedelta(seconds=60)
LEASE = dt.timedelta(seconds=30)  # sending a bundle takes milliseconds
BATCH = 20
PURPOSE = "page"  # a bundle is a page text like any other
NUMBER_INDEX = "page-sms-number"
UNOWNED = (Page.State.OPEN, Page.State.ALARMED)  # a page still worth a text


def link(page: Page) -> str:
    """The page's secure link, as its texts give it."""
    return settings.SITE_URL.rstrip("/") + reverse("page_link", args=[page.link_token])


def hold(page: Page, member: User, number: str, *, key: str, at: dt.datetime,
         now: dt.datetime) -> BundleEntry | None:
    """The entry this text joined, to wait for the number's bundle; or None: it goes on its
    own now, and begins the number's next minute if none is running."""
    index = blind_index(page.practice_id, NUMBER_INDEX, number)
    for _ in range(2):  # again only if another worker began the minute meanwhile
        with transaction.atomic():
            minute = (Bundle.objects.select_for_update()
                      .filter(practice_id=page.practice_id, number_index=index,
                              state=Bundle.State.HOLDING).first())
            if minute is not None and joins(minute, at, now):
                return join(minute, page, member, key)
            if minute is not None and minute.due_at is None and minute.closes_at <= now:
                # Over, and nobody joined: it ends here, and this text begins the next.
                Bundle.objects.filter(pk=minute.pk).update(state=Bundle.State.CLOSED)
                minute = None
            if minute is not None:
                return None  # a rule's delay put this text outside the number's minute
            try:
                with transaction.atomic():
                    Bundle.objects.create(practice_id=page.practice_id, to=number,
                                          number_index=index, opened_at=at,
                                          closes_at=at + WINDOW)
                return None
            except IntegrityError:
                continue
    return None


def joins(minute: Bundle, at: dt.datetime, now: dt.datetime) -> bool:
    """A text at ``at`` waits for ``minute``'s bundle: it falls inside the minute, or it is
    due now and the minute is over but its bundle not sent yet (it goes within a poll)."""
    return minute.opened_at <= at and (
        at < minute.closes_at or (at <= now and minute.due_at is not None))


def join(minute: Bundle, page: Page, member: User, key: str) -> BundleEntry:
    try:
        with transaction.atomic():
            entry = BundleEntry.objects.create(bundle=minute, page=page, member=member,
                                               key=key)
    except IntegrityError:  # held already: the same step run twice
        return BundleEntry.objects.get(key=key)
    if minute.due_at is None:
        Bundle.objects.filter(pk=minute.pk).update(due_at=minute.closes_at)
    return entry


def attach(entry: BundleEntry, notified: PageEvent) -> None:
    """The page's "notified" event, which gets the bundle's delivery when it is queued."""
    BundleEntry.objects.filter(pk=entry.pk, event__isnull=True).update(event=notified)


def send_due(now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """The worker's job: each bundle whose minute has ended, as one text."""
    now = now or timezone.now()
    due = Bundle.objects.filter(state=Bundle.State.HOLDING, due_at__lte=now).order_by("due_at")
    claimed = claims.claim_due(due, limit, due_at=now + LEASE)
    return claims.each(claimed, lambda bundle: send(bundle, now), log, "bundle")


def send(bundle: Bundle, now: dt.datetime) -> int:
    """One text for the bundle's pages still unowned, in one transaction with its outcome;
    the text begins the number's next minute. 0 if nothing went (or it went already)."""
    with transaction.atomic():
        mine = (Bundle.objects.select_for_update().select_related("practice")
                .filter(pk=bundle.pk, state=Bundle.State.HOLDING).first())
        if mine is None:  # sent by another worker meanwhile
            return 0
        entries = list(mine.entries.filter(page__state__in=UNOWNED).select_related(
            "page__message", "page__practice"))
        if not entries:  # every page was owned first: nothing goes
            Bundle.objects.filter(pk=mine.pk).update(state=Bundle.State.CLOSED, due_at=None)
            return 0
        pages = list({entry.page_id: entry.page for entry in entries}.values())
        delivery = enqueue(mine.practice, channel=Channel.SMS, to=mine.to, body=wording(pages),
                           purpose=PURPOSE, idempotency_key=f"page-bundle:{mine.pk}")
        Bundle.objects.filter(pk=mine.pk).update(state=Bundle.State.SENT, due_at=None,
                                                 delivery=delivery, sent_at=now)
        PageEvent.objects.filter(pk__in=[e.event_id for e in entries if e.event_id]).update(
            delivery=delivery)
        for entry in entries:
            record(Action.PAGE_NOTIFY, practice=mine.practice_id, obj=entry.page,
                   reason=f"sms to member {entry.member_id}: a bundle of {len(pages)}")
        Bundle.objects.create(practice_id=mine.practice_id, to=mine.to,
                              number_index=mine.number_index, opened_at=now,
                              closes_at=now + WINDOW)
    return 1


def wording(pages: list[Page]) -> str:
    """One text for a number's held pages: the practice, how many, the most urgent level,
    the most urgent page's link and every code. No PHI."""
    ordered = sorted(pages, key=lambda p: (-Priority(p.message.priority).rank, p.opened_at))
    first, count = ordered[0], len(ordered)
    noun = "message" if count == 1 else "messages"
    more = f" for the first ({count - 1} more)" if count > 1 else ""
    codes = ", ".join(p.code for p in ordered)
    # "reply 1 and a code" even for one: another page texted this number within the minute.
    return (f"{first.practice.name}: {count} {first.message.priority.upper()} {noun}. "
            f"Open {link(first)}{more} or reply 1 and a code to acknowledge: {codes}.")
