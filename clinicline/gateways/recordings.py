"""Voicemail audio: the worker fetches each new recording from the carrier, keeps it sealed
in the data dir, and, as the practice chose, deletes it at the carrier.

A recording is a row with a due time, like all background work. The worker claims due rows
with a conditional UPDATE that moves the due time a lease ahead: exactly one worker's update
touches the row, and a worker that dies mid-fetch only delays it by the lease. A row that is
STORED and still due is waiting for its deletion at the carrier.

Two sources. Twilio: ``https://api.twilio.com/2010-04-01/Accounts/<sid>/Recordings/<sid>``,
fetched with the practice's own credentials. The phone simulator: ``loopback://<practice
slug>/<file>``, a file under DATA_DIR/simulator. Any other URL is refused: it arrives in a
webhook, and the worker must never fetch, with a practice's credentials, from wherever a
request says.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from clinicline import claims
from clinicline.gateways.transports.twilio import TIMEOUT_S, client_for
from clinicline.inbox.models import Recording
from clinicline.inbox.recordings import RecordingError, store
from clinicline.practices.models import GatewayAccount

log = logging.getLogger("clinicline.gateways")

LEASE = dt.timedelta(minutes=5)  # well beyond a fetch's timeouts
MAX_ATTEMPTS = 5
CLAIM_BATCH = 10
RUN_BUDGET_S = 2.0  # per worker pass; one fetch may still run to its timeout
# Voicemails stop at two minutes (about 2 MB of 8 kHz WAV); anything far larger is not one.
MAX_AUDIO_BYTES = 32 * 1024 * 1024
TWILIO_HOST = "api.twilio.com"
TWILIO_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/Recordings/(?P<recording>\w+)")
LOOPBACK = "loopback"
# A bare file name: no directories, no dot files, nothing that climbs out of the folder.
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class Source(Protocol):
    def fetch(self) -> bytes: ...

    def delete(self) -> None: ...


def keep_bytes(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """The twilio client hands back ``response.text``, decoded in whatever charset requests
    guesses, which mangles audio. Latin-1 maps each byte to one character and back."""
    response.encoding = "latin-1"
    return response


def audio_client(account: GatewayAccount) -> Client:
    return client_for(account, TwilioHttpClient(timeout=TIMEOUT_S,
                                                request_hooks={"response": [keep_bytes]}))


class TwilioSource:
    def __init__(self, account: GatewayAccount, url: str, recording_sid: str) -> None:
        self.client = audio_client(account)
        self.url, self.recording_sid = url, recording_sid

    def fetch(self) -> bytes:
        try:
            # Twilio may redirect to its storage; the URL we start from is Twilio's own, and
            # requests drops the credentials when a redirect leaves the host.
            response = self.client.request("GET", self.url + ".wav", allow_redirects=True)
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            raise RecordingError(f"Twilio unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            status = response.status_code
            raise RecordingError(f"Twilio {status} fetching the recording",
                                 permanent=400 <= status < 500 and status != 429)
        try:
            return response.text.encode("latin-1")
        except UnicodeEncodeError:
            raise RecordingError("Twilio's answer was not audio", permanent=True) from None

    def delete(self) -> None:
        try:
            self.client.recordings(self.recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status == 404:  # already gone: what we wanted
                return
            raise RecordingError(f"Twilio {exc.status} deleting the recording",
                                 permanent=400 <= exc.status < 500 and exc.status != 429) \
                from None
        except (TwilioException, OSError) as exc:
            raise RecordingError(f"Twilio unreachable: {type(exc).__name__}") from None


class LoopbackSource:
    """The phone simulator's carrier: it leaves each voicemail as a WAV file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self) -> bytes:
        try:
            if self.path.stat().st_size > MAX_AUDIO_BYTES:
                raise RecordingError("the simulator's recording is too large", permanent=True)
            return self.path.read_bytes()
        except FileNotFoundError:  # the simulator writes the file before it calls us
            raise RecordingError("the simulator's recording file is missing",
                                 permanent=True) from None

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


def source_for(url: str, recording_sid: str, account: GatewayAccount) -> Source:
    """Where this account's recording may be fetched from, or a permanent refusal."""
    parts = urlsplit(url)
    if (parts.scheme == "https" and parts.netloc == TWILIO_HOST and not parts.query
            and not parts.fragment):
        match = TWILIO_PATH.fullmatch(parts.path)
        if match and match["account"] == account.account_sid \
                and match["recording"] == recording_sid:
            return TwilioSource(account, url, recording_sid)
    if parts.scheme == LOOPBACK and account.test_mode \
            and parts.netloc == account.practice.slug and not parts.query:
        name = parts.path.removeprefix("/")
        if FILE_NAME.fullmatch(name):
            return LoopbackSource(settings.DATA_DIR / "simulator" / name)
    raise RecordingError("recording URL refused: not this account's Twilio recording or "
                         "simulator file", permanent=True)


# --- the worker's job -----------------------------------------------------------------
def claim_due(now: dt.datetime | None = None, limit: int = CLAIM_BATCH) -> list[Recording]:
    """Due recordings, each leased to this caller (a worker that dies mid-fetch only
    delays its row by the lease)."""
    now = now or timezone.now()
    due = (Recording.objects.filter(due_at__lte=now).exclude(state=Recording.State.FAILED)
           .order_by("due_at"))
    return claims.claim_due(due, limit, due_at=now + LEASE, attempts=F("attempts") + 1)


def step(recording: Recording) -> None:
    """One claimed recording: fetch and store it if it is new, then delete it at the
    carrier if the practice wants that. The row records how it went."""
    account = GatewayAccount.objects.select_related("practice").filter(
        practice_id=recording.practice_id).first()
    try:
        if account is None:
            raise RecordingError("the practice has no gateway account", permanent=True)
        source = source_for(recording.source_url, recording.recording_sid, account)
        if recording.state == Recording.State.PENDING:
            fetch_and_store(recording, source, delete_next=account.delete_recordings)
        if account.delete_recordings and recording.deleted_from_vendor_at is None:
            source.delete()
            Recording.objects.filter(pk=recording.pk).update(
                deleted_from_vendor_at=timezone.now(), due_at=None, error="")
    except RecordingError as exc:
        failed(recording, exc)


def fetch_and_store(recording: Recording, source: Source, *, delete_next: bool) -> None:
    audio = source.fetch()
    if not audio:
        raise RecordingError("the recording is empty")
    if len(audio) > MAX_AUDIO_BYTES:
        raise RecordingError("the recording is too large", permanent=True)
    recording.file = store(recording, audio)
    recording.state = Recording.State.STORED
    recording.fetched_at = timezone.now()
    # Deleting at the carrier gets its own attempts, and stays due until it is done.
    recording.attempts = 0
    recording.due_at = timezone.now() if delete_next else None
    Recording.objects.filter(pk=recording.pk).update(
        state=recording.state, file=recording.file, fetched_at=recording.fetched_at,
        attempts=0, due_at=recording.due_at, error="")


def failed(recording: Recording, exc: RecordingError) -> None:
    rows = Recording.objects.filter(pk=recording.pk)
    if not exc.permanent and recording.attempts < MAX_ATTEMPTS:
        rows.update(due_at=timezone.now() + claims.backoff(recording.attempts),
                    error=str(exc)[:200])
        return
    if recording.state == Recording.State.PENDING:
        # A voicemail that will never arrive is a patient's message lost: say so loudly.
        log.error("recording %s failed for good: %s", recording.pk, exc)
        rows.update(state=Recording.State.FAILED, due_at=None, error=str(exc)[:200])
    else:  # the audio is safe with us; only the carrier's copy remains
        log.warning("recording %s stored, but not deleted at the carrier", recording.pk)
        rows.update(due_at=None, error=f"not deleted at the carrier: {exc}"[:200])


def fetch_due(budget_s: float = RUN_BUDGET_S) -> int:
    """Recordings that are due, one claim at a time until the budget is spent: the worker
    also sends pages, and a slow carrier must not hold them up for a whole batch."""
    deadline = time.monotonic() + budget_s
    handled = 0
    while time.monotonic() < deadline:
        claimed = claim_due(limit=1)
        if not claimed:
            break
        step(claimed[0])
        handled += 1
    return handled
