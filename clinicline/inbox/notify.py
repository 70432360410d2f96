"""Telling members that their queues have new messages, through the outbox, without PHI.

"3 new messages in Refills" is all a notice says: a count and the queue's name, never who
called or why. Each team has a durable cursor (``QueueNotice.notified_until``). A run takes
the window from the cursor to a moment a little in the past (so a message whose transaction
is still committing is not skipped), moves the cursor with a conditional UPDATE (two workers
cannot both take a window) and enqueues the notices in the same transaction: a run that
dies before its commit leaves nothing behind, and each delivery's idempotency key is the
(team, member, window, channel), so a retried window never notifies twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from clinicline.accounts.models import Membership
from clinicline.inbox.models import Message, QueueNotice
from clinicline.inbox.visibility import CLINICAL_Q, is_clinical_queue, is_clinical_role, queue_roles
from clinicline.outbox.models import Channel
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Team

log = logging.getLogger(__name__)

# Messages newer than this are left for the next run: their transaction may not be visible
# yet, and the cursor must never pass a message that commits later.
SETTLE = dt.timedelta(seconds=20)
# A queue never announced before is announced from this far back.
FIRST_LOOKBACK = dt.timedelta(hours=1)
PURPOSE = "inbox-notification"


def notice_text(count: int, team: Team) -> str:
    return f"{count} new message{'' if count == 1 else 's'} in {team.name}"


def recipients(team: Team) -> list[Membership]:
    """Who hears about this queue: members who work it; clinical staff only about clinical
    queues (a nurse sees scheduling, but is not paged about every booking)."""
    roles = [r for r in queue_roles(team.work)
             if not is_clinical_role(r) or is_clinical_queue(team.work)]
    return list(Membership.objects.filter(practice_id=team.practice_id, role__in=roles,
                                          user__is_active=True).select_related("user"))


def _counts(team: Team, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """(all new messages in the window, those a non-clinical member may see)."""
    counts = Message.objects.filter(
        practice_id=team.practice_id, team=team, created_at__gt=since,
        created_at__lte=until).aggregate(all=Count("pk"), plain=Count("pk", filter=~CLINICAL_Q))
    return counts["all"], counts["plain"]


def _cursor(team: Team, now: dt.datetime) -> QueueNotice:
    cursor, _ = QueueNotice.objects.get_or_create(
        team=team, defaults={"practice_id": team.practice_id,
                             "notified_until": now - FIRST_LOOKBACK})
    return cursor


def announce(team: Team, now: dt.datetime | None = None) -> int:
    """Notify the team's members about its messages since the cursor; notices enqueued."""
    now = now or timezone.now()
    until = now - SETTLE
    cursor = _cursor(team, now)
    since = cursor.notified_until
    if until <= since:
        return 0
    enqueued = 0
    with transaction.atomic():
        taken = QueueNotice.objects.filter(pk=cursor.pk, notified_until=since).update(
            notified_until=until)
        if taken != 1:
            return 0  # another worker took this window
        total, plain = _counts(team, since, until)
        if not total:
            return 0
        window = f"{since.timestamp():.6f}-{until.timestamp():.6f}"
        for member in recipients(team):
            count = total if is_clinical_role(member.role) else plain
            if count:
                enqueued += _notify(team, member, count, window)
    log.info("queue %s: %d notices for %d new messages", team.pk, enqueued, total)
    return enqueued


def _notify(team: Team, member: Membership, count: int, window: str) -> int:
    text = notice_text(count, team)
    channels = [(Channel.IN_APP, str(member.user_id))]
    if member.user.email:
        channels.append((Channel.EMAIL, member.user.email))
    for channel, to in channels:
        enqueue(team.practice, channel=channel, to=to, body=text, purpose=PURPOSE,
                idempotency_key=f"inbox:{team.pk}:{member.user_id}:{window}:{channel}")
    return len(channels)


def announce_all(now: dt.datetime | None = None) -> int:
    """Every queue of every practice: a few small queries each, twice a minute."""
    now = now or timezone.now()
    return sum(announce(team, now) for team in Team.objects.select_related("practice"))
