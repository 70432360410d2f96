"""Secret calendar-feed links: one schedule's shifts, or one member's across the practice.

Calendar apps cannot log in, so the link itself is the key: 32 random bytes, of which only
the SHA-256 is stored. A new link revokes the old one. A feed holds member names and times,
nothing about a patient. Making and revoking links is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.http import HttpRequest

from clinicline.accounts.models import Membership, User
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.oncall import ical
from clinicline.oncall.models import FeedToken, Schedule
from clinicline.oncall.schedules import Shift, practice_schedules, shifts
from clinicline.practices.models import Practice

PAST, AHEAD = dt.timedelta(days=30), dt.timedelta(days=180)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def new_link(practice: Practice, *, schedule: Schedule | None = None,
             member: User | None = None, by: User,
             request: HttpRequest | None = None) -> str:
    """A new feed token for ``schedule`` or ``member`` (exactly one), revoking the old."""
    if (schedule is None) == (member is None):
        raise ValueError("a feed is of one schedule or of one member")
    now = dt.datetime.now(dt.UTC)
    old = FeedToken.objects.for_practice(practice).filter(
        schedule=schedule, member=member, revoked_at__isnull=True)
    for token in old.select_for_update():
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record(Action.FEED_LINK_REVOKE, request=request, actor=by, practice=practice,
               obj=token)
    secret = secrets.token_urlsafe(32)
    made = FeedToken.objects.create(practice=practice, schedule=schedule, member=member,
                                    token_hash=token_hash(secret), created_by=by)
    record(Action.FEED_LINK_NEW, request=request, actor=by, practice=practice, obj=made,
           reason="schedule feed" if schedule else "member feed")
    return secret


def active(token: str) -> FeedToken | None:
    """The feed the token opens: not revoked, and a member's only while they are one."""
    found = (FeedToken.objects.select_related("practice", "schedule", "member")
             .filter(token_hash=token_hash(token), revoked_at__isnull=True).first())
    if found and found.member and not Membership.objects.filter(
            user=found.member, practice=found.practice).exists():
        return None
    return found


def _member_shifts(practice: Practice, member: User, start: dt.datetime,
                   end: dt.datetime) -> list[Shift]:
    return [s for schedule in practice_schedules(practice)
            for s in shifts(schedule, start, end) if s.member == member]


def feed_bytes(feed: FeedToken, at: dt.datetime) -> bytes:
    """The feed's .ics: its shifts from 30 days before ``at`` to 180 days after."""
    start, end = at - PAST, at + AHEAD
    if feed.schedule is not None:
        return ical.calendar_bytes(feed.schedule.name, shifts(feed.schedule, start, end), at)
    assert feed.member is not None  # the check constraint: a schedule's or a member's
    return ical.calendar_bytes(ical.display_name(feed.member),
                               _member_shifts(feed.practice, feed.member, start, end), at)
