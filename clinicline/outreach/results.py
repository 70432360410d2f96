"""Results ready: staff ask, and the patient is told only "Your results are ready. Please
call the office at …" — by a call (with the voicemail fallback, ``outreach.voice``) or a
text. A patient who consented to the secure portal for results also gets a link
(``/r/<token>/``) that asks for their date of birth before it shows anything; five wrong
tries lock it, and every try is audited (which link, right or wrong: never what was typed).

clinicline holds no results: after the right date of birth the page says only that
results are ready and how to get them (call the office, or sign in to the practice's
portal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.audit.service import client_ip, record
from clinicline.outbox.models import Channel as OutboxChannel
from clinicline.outbox.service import enqueue
from clinicline.outreach import service, templates
from clinicline.outreach.kinds import Channel, Purpose, Reason
from clinicline.outreach.voice import place_reminder_call
from clinicline.outreach.voice_models import OutreachCall, ResultsLink
from clinicline.patients import consent
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice, Provider

CHANNELS = (Channel.VOICE, Channel.SMS)
# Tries of any results link from one address in a window: guessing across links is slow too.
IP_WINDOW = dt.timedelta(minutes=10)
IP_MAX_TRIES = 20
PURPOSE = "results-ready"


class ResultsLinkUrl(templates.SecureLink):
    """The results page's own address (a typed secure-link slot value)."""

    @property
    def url(self) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("results_link", args=[self.token])


@dataclass(frozen=True)
class Requested:
    link: ResultsLink
    token: str                 # only here, once: the database keeps its hash
    call: OutreachCall | None  # a voice request's call
    portal: bool               # the patient consented to the portal: the text carries the link


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request(practice: Practice, patient: Patient, *, by: Any, channel: str, to: str,
            provider: Provider | None = None, language: str = "en",
            now: dt.datetime | None = None) -> Requested:
    """Tell ``patient`` their results are ready, on ``channel`` (voice or sms) to ``to``.
    No ``SendDecision`` is made or recorded here yet: the caller must have checked consent
    and the number (today only ``clinicline drill`` calls this). Makes the link either way
    (a patient who calls back may be sent it later); a text carries it only with portal
    consent."""
    if channel not in CHANNELS:
        raise ValueError(f"results are told by {' or '.join(CHANNELS)}, not {channel!r}")
    if patient.practice_id != practice.pk or (provider and provider.practice_id != practice.pk):
        raise ValueError("the patient and provider must be this practice's")
    now = now or timezone.now()
    token = secrets.token_urlsafe(16)
    portal = consent.state(patient, Channel.PORTAL, Purpose.RESULTS_READY).allowed
    with transaction.atomic():
        link = ResultsLink.objects.create(
            practice=practice, patient=patient, provider=provider, requested_by=by,
            channel=channel, token_hash=digest(token), expires_at=now + ResultsLink.LIFETIME)
        record(Action.RESULTS_REQUEST, actor=by, practice=practice, obj=link,
               patient=patient.pk, reason=f"results ready by {channel}")
        call = None
        if channel == Channel.VOICE:
            call = place_reminder_call(link, to=to, language=language, now=now)
        else:
            enqueue(practice, channel=OutboxChannel.SMS, to=to, purpose=PURPOSE,
                    body=text(link, token, portal, language), patient=patient,
                    idempotency_key=f"results:{link.pk}")
    return Requested(link, token, call, portal)


def text(link: ResultsLink, token: str, portal: bool, language: str) -> str:
    """The approved results-ready text, and the secure link after it for portal consent."""
    practice = link.practice
    live = service.live(practice, (Purpose.RESULTS_READY, Channel.SMS, language))
    values = templates.Values(provider=link.provider, reason=Reason.RESULTS,
                              secure_link=ResultsLinkUrl(token))
    words = templates.render(live.body, practice=practice, channel=Channel.SMS,
                             language=language, values=values)
    if portal:
        words += " " + templates.render("{secure_link}", practice=practice,
                                        channel=Channel.SMS, language=language, values=values)
    return words


# --- the link's page ------------------------------------------------------------------------

def by_token(token: str) -> ResultsLink | None:
    """The link, while it is alive (not expired); a locked one is still found, to say so."""
    if not token or len(token) > 64:
        return None
    link = (ResultsLink.objects.filter(token_hash=digest(token))
            .select_related("practice", "patient").first())
    if link is None or link.expires_at <= timezone.now():
        return None
    return link


def throttled(request: HttpRequest) -> bool:
    """Too many tries of results links from this address lately."""
    since = timezone.now() - IP_WINDOW
    return AuditEvent.objects.filter(action=Action.RESULTS_LINK, at__gte=since,
                                     ip=client_ip(request)).count() >= IP_MAX_TRIES


def locked(link: ResultsLink) -> bool:
    return link.locked_at is not None


def attempt(link: ResultsLink, date_of_birth: dt.date, *,
            request: HttpRequest | None = None) -> bool:
    """One try of the date of birth: right, or a wrong one counted (the fifth locks the
    link). Audited either way, with the link and the outcome only."""
    with transaction.atomic():
        link = ResultsLink.objects.select_for_update().get(pk=link.pk)
        if link.locked_at is not None:
            return False
        right = link.patient.date_of_birth == date_of_birth
        if right:
            ResultsLink.objects.filter(pk=link.pk).update(verified_at=timezone.now())
        else:
            ResultsLink.objects.filter(pk=link.pk).update(attempts=F("attempts") + 1)
        record(Action.RESULTS_LINK, request=request, practice=link.practice_id, obj=link,
               patient=link.patient_id, reason="date of birth right" if right else
               f"date of birth wrong (try {link.attempts + 1})",
               outcome=Outcome.SUCCESS if right else Outcome.DENIED)
        if not right and link.attempts + 1 >= ResultsLink.MAX_ATTEMPTS:
            ResultsLink.objects.filter(pk=link.pk).update(locked_at=timezone.now())
            record(Action.RESULTS_LINK_LOCK, request=request, practice=link.practice_id,
                   obj=link, patient=link.patient_id, outcome=Outcome.DENIED,
                   reason=f"locked after {ResultsLink.MAX_ATTEMPTS} wrong dates of birth")
    return right
