"""Results ready: staff ask, and the patient is told only "Your results are ready. Please
call the office at …" — by a call (with the voicemail fallback, ``outreach.voice``) or a
text. A patient who consented to the secure portal for results also gets a link
(``/r/<token>/``) in the text, which asks for their date of birth before it shows anything;
five wrong tries lock it, and every try is audited (which link, right or wrong: never
what was typed).

``request`` records the link and then the sending decision (``decisions.send``): every
check a message goes through (consent, the number, quiet hours, the caps, the PHI guard)
decides it, and a message withheld is neither queued nor called.

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

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.audit.service import client_ip, record
from clinicline.outreach import decisions, templates
from clinicline.outreach.decision_models import SendDecision
from clinicline.outreach.kinds import Channel, Purpose, Reason
from clinicline.outreach.templates import ResultsLinkUrl as ResultsLinkUrl  # the slot's value
from clinicline.outreach.voice_models import OutreachCall, ResultsLink
from clinicline.patients import consent
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice, Provider

# A call (``voice``), a call placed only to leave the voicemail script (``voicemail``), or
# a text.
CHANNELS = (Channel.VOICE, Channel.VOICEMAIL, Channel.SMS)
# Tries of any results link from one address in a window: guessing across links is slow too.
IP_WINDOW = dt.timedelta(minutes=10)
IP_MAX_TRIES = 20


@dataclass(frozen=True)
class Requested:
    link: ResultsLink
    token: str                 # only here, once: the database keeps its hash
    decision: SendDecision     # sent, deferred (sent later, when quiet hours end) or withheld
    call: OutreachCall | None  # the call placed, when the decision sent one
    portal: bool               # the patient consented to the portal: the text carries the link


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request(practice: Practice, patient: Patient, *, by: Any, channel: str,
            provider: Provider | None = None, now: dt.datetime | None = None,
            idempotency_key: str = "") -> Requested:
    """Tell ``patient`` their results are ready, by ``channel`` (voice, voicemail or sms),
    through the sending decision (which picks the verified number, and the language).
    Makes the link whatever is decided (a patient who calls back may be sent it later); a
    text carries it only with the patient's portal consent for results, read now.
    ``idempotency_key``: the caller's (a staff form's); by default the link's own."""
    if channel not in CHANNELS:
        raise ValueError(f"results are told by {', '.join(CHANNELS)}, not {channel!r}")
    if patient.practice_id != practice.pk or (provider and provider.practice_id != practice.pk):
        raise ValueError("the patient and provider must be this practice's")
    now = now or timezone.now()
    token = secrets.token_urlsafe(16)
    portal = channel == Channel.SMS and consent.state(
        patient, Channel.PORTAL, Purpose.RESULTS_READY, at=now).allowed
    with transaction.atomic():
        link = ResultsLink.objects.create(
            practice=practice, patient=patient, provider=provider, requested_by=by,
            channel=channel, token_hash=digest(token), expires_at=now + ResultsLink.LIFETIME)
        record(Action.RESULTS_REQUEST, actor=by, practice=practice, obj=link,
               patient=patient.pk, reason=f"results ready by {channel}")
        values = templates.Values(provider=provider,
                                  secure_link=ResultsLinkUrl(token) if portal else None)
        decision = decisions.send(
            practice, patient, purpose=Purpose.RESULTS_READY,
            channel=decided_channel(patient, channel, now), reason=Reason.RESULTS,
            values=values, at=now, idempotency_key=idempotency_key or f"results:{link.pk}",
            results_link=link, by=by)
    call = OutreachCall.objects.filter(results_link=link).first()
    return Requested(link, token, decision, call, portal)


def decided_channel(patient: Patient, channel: str, now: dt.datetime) -> str:
    """The channel a results call is decided on: calls, where the patient consented to
    results calls; else voicemail, where they consented to that (the call is placed to
    leave the voicemail script, which its own check at the answering machine allows
    again); else calls, which the decision then withholds as ``no-consent``."""
    if channel != Channel.VOICE or consent.state(
            patient, Channel.VOICE, Purpose.RESULTS_READY, at=now).allowed:
        return channel
    if consent.state(patient, Channel.VOICEMAIL, Purpose.RESULTS_READY, at=now).allowed:
        return Channel.VOICEMAIL
    return Channel.VOICE


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
