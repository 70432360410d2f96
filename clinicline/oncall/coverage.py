"""Coverage warnings: when nobody is the primary on call in the next 14 days, and who is on
call in them without a verified phone (a page can neither text nor call them).

``coverage(practice, now)`` is what the practice's home page shows its admins and what the
worker's ``coverage-mail`` job emails them once a day. Both warnings come from the
functions the rest of the site already uses: ``schedules.gaps`` (the week calendar's "No
primary on call") and ``contacts.with_verified_phone`` (the staff list's "none verified").

The mail is PHI-free by construction (schedule names, times, staff names, a link) and goes
through the outbox like every email. It is sent once per practice admin per local calendar
day, from the first hourly check after ``MAIL_AFTER`` local time: its idempotency key names
the day, so a job that runs many times, or in several workers at once, queues it once.
Nothing is sent on a day with nothing to report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.oncall import schedules
from clinicline.oncall.contacts import with_verified_phone
from clinicline.oncall.models import Schedule
from clinicline.outbox.models import Channel, Delivery
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Practice

WINDOW = dt.timedelta(days=14)
MAIL_AFTER = dt.time(7)  # local: the day's mail reaches admins as their day starts
PURPOSE = "coverage"
ADMINS = (Role.PRACTICE_ADMIN,)  # who manages the practice's schedules and staff


@dataclass(frozen=True)
class Coverage:
    since: dt.datetime
    schedules: list[Schedule]
    gaps: list[tuple[dt.datetime, dt.datetime]]  # nobody the primary, a minute or more
    unreachable: list[User]  # on call in the window, no verified phone number

    def __bool__(self) -> bool:
        return bool(self.gaps or self.unreachable)


def coverage(practice: Practice, now: dt.datetime) -> Coverage:
    """The practice's warnings for the 14 days from ``now``."""
    end = now + WINDOW
    found = schedules.practice_schedules(practice)
    on_call: dict[int, User] = {}
    for schedule in found:
        for shift in schedules.shifts(schedule, now, end):
            on_call.setdefault(shift.member.pk, shift.member)
    pageable = with_verified_phone(on_call)
    unreachable = sorted((u for pk, u in on_call.items() if pk not in pageable), key=name)
    return Coverage(now, found, schedules.gaps(practice, now, end), unreachable)


def name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def when(at: dt.datetime, practice: Practice) -> str:
    """"Tue 14 Apr 18:00", in the practice's zone: never a year, which the outbox's last
    screen would take for a birth date."""
    return f"{timezone.localtime(at, practice.tz):%a %d %b %H:%M}"


def span(start: dt.datetime, end: dt.datetime, found: Coverage, practice: Practice) -> str:
    """"Tue 14 Apr 18:00 to Wed 15 Apr 08:00"; "now" and "and later" at the window's ends."""
    began = "now" if start <= found.since else when(start, practice)
    later = " and later" if end >= found.since + WINDOW else ""
    return f"{began} to {when(end, practice)}{later}"


def gap_lines(practice: Practice, found: Coverage) -> list[str]:
    """Each gap as the mail and the home page say it."""
    return [span(start, end, found, practice) for start, end in found.gaps]


def mail_text(practice: Practice, found: Coverage) -> str:
    """The subject line, then the body: times, schedule and staff names, and the link."""
    lines = [f"[clinicline] On-call coverage at {practice.name}"]
    if found.gaps:
        names = ", ".join(s.name for s in found.schedules) or "none yet"
        lines += [f"Nobody is the primary on call at these times in the next "
                  f"{WINDOW.days} days (schedules: {names}):"]
        lines += [f"- {gap}" for gap in gap_lines(practice, found)]
    if found.unreachable:
        lines += ["On call without a verified phone number (a page can neither text nor "
                  "call them until they add one under How to reach me):"]
        lines += [f"- {name(user)}" for user in found.unreachable]
    link = settings.SITE_URL.rstrip("/") + reverse("oncall:calendar",
                                                   kwargs={"practice": practice.slug})
    lines += [f"Times are {practice.time_zone}. Review the on-call schedules: {link}"]
    return "\n".join(lines) + "\n"


def key(practice: Practice, day: dt.date, user: User) -> str:
    return f"{PURPOSE}:{practice.pk}:{day.isoformat()}:{user.pk}"


def mail(practice: Practice, now: dt.datetime) -> int:
    """Today's mail to each active admin with an address who has not had it; how many were
    queued. The schedules are only read when an admin still awaits today's."""
    local = timezone.localtime(now, practice.tz)
    if local.time() < MAIL_AFTER:
        return 0
    admins = [m.user for m in Membership.objects.filter(
        practice=practice, role__in=ADMINS, user__is_active=True,
    ).exclude(user__email="").select_related("user").order_by("user_id")]
    keys = {admin.pk: key(practice, local.date(), admin) for admin in admins}
    sent = set(Delivery.objects.filter(practice=practice, idempotency_key__in=keys.values())
               .values_list("idempotency_key", flat=True))
    waiting = [admin for admin in admins if keys[admin.pk] not in sent]
    if not waiting:
        return 0
    found = coverage(practice, now)
    if not found:
        return 0
    body = mail_text(practice, found)
    for admin in waiting:
        enqueue(practice, channel=Channel.EMAIL, to=admin.email, body=body, purpose=PURPOSE,
                idempotency_key=keys[admin.pk])
    return len(waiting)


def mail_all(now: dt.datetime | None = None) -> int:
    """The worker's job: every practice, hourly."""
    now = now or timezone.now()
    return sum(mail(practice, now) for practice in Practice.objects.order_by("pk"))
