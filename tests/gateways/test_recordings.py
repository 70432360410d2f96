"""Voicemail recordings: the worker fetches each one once, keeps it sealed under the
practice's data key in the data dir, deletes it at the carrier when the practice asks, and
retries what fails for a while. Twilio's network edge (``TwilioHttpClient.request``) is the
only thing replaced; the simulator's carrier is real files under DATA_DIR/simulator."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import shutil
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
import time_machine
from django.test import override_settings
from django.utils import timezone
from twilio.http.response import Response

from clinicline import claims
from clinicline.gateways import recordings
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.inbox import recordings as sealed
from clinicline.inbox.models import Recording
from clinicline.jobs import job
from clinicline.practices.models import GatewayAccount
from clinicline.vault.keyring import VaultError
from clinicline.worker import Worker
from tests.gateways.test_webhooks import (
    ACCOUNT_SID,
    CALL_SID,
    RECORDING,
    RECORDING_SID,
    TOKEN,
    VOICE,
    call,
    make_gateway,
    post,
    voicemail,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 23, 15, tzinfo=dt.UTC)  # after hours, when voicemails come in
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


def wav(seconds: float = 0.5) -> bytes:
    """A real WAV file (8 kHz mono, as phone audio is), holding every byte value."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes((bytes(range(256)) * 64)[: int(8000 * seconds) * 2])
    return out.getvalue()


AUDIO = wav()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


@pytest.fixture
def gateway(practice: Any) -> GatewayAccount:
    return make_gateway(practice, test_mode=False, delete_recordings=True)


@pytest.fixture
def twilio() -> Iterator[mock.MagicMock]:
    with mock.patch("twilio.http.http_client.TwilioHttpClient.request",
                    autospec=True) as request:
        yield request


def carrier(audio: Response | BaseException | None = None,
            delete: Response | BaseException | None = None) -> Any:
    """Twilio's edge: GET answers the audio (as the client hands back bytes read as
    Latin-1; see test_audio_survives_the_twilio_http_client), DELETE answers 204."""
    answers = {"GET": audio or Response(200, AUDIO.decode("latin-1")),
               "DELETE": delete or Response(204, "")}

    def edge(client: Any, method: str, url: str, **kwargs: Any) -> Response:
        found = answers[method]
        if isinstance(found, BaseException):
            raise found
        return found

    return edge


def calls(twilio: mock.MagicMock, method: str) -> list[str]:
    return [c.args[2] for c in twilio.call_args_list if c.args[1] == method]


def voicemail_left(url: str | None = None) -> Recording:
    """A caller leaves a voicemail a minute before T0: the call's webhook, then the
    recording's callback."""
    with time_machine.travel(T0 - dt.timedelta(minutes=1), tick=False):
        assert post(VOICE, call()).status_code == 200
        assert post(RECORDING, voicemail(url)).status_code == 200
    return Recording.objects.get()


def reread(recording: Recording) -> Recording:
    return Recording.objects.get(pk=recording.pk)


# --- fetched, sealed, deleted -------------------------------------------------------------

def test_a_twilio_voicemail_is_fetched_sealed_and_deleted_at_twilio(gateway, twilio, data_dir):
    twilio.side_effect = carrier()
    recording = voicemail_left()
    with time_machine.travel(T0, tick=False):
        assert recordings.fetch_due() == 1
    recording = reread(recording)
    assert recording.state == Recording.State.STORED
    assert recording.file == f"recordings/{gateway.practice_id}/{recording.pk}.sealed"
    assert recording.fetched_at == T0 and recording.deleted_from_vendor_at == T0
    assert recording.due_at is None and recording.error == ""
    assert sealed.open_audio(recording) == AUDIO
    # Fetched with the practice's own credentials, from the URL Twilio gave, as WAV.
    (get,) = [c for c in twilio.call_args_list if c.args[1] == "GET"]
    assert get.args[2] == f"{API}/Recordings/{RECORDING_SID}.wav"
    assert get.kwargs["auth"] == (ACCOUNT_SID, TOKEN)
    assert calls(twilio, "DELETE") == [f"{API}/Recordings/{RECORDING_SID}.json"]
    assert recordings.fetch_due() == 0  # nothing left to do


def test_the_file_on_disk_reveals_no_audio(gateway, twilio, data_dir):
    twilio.side_effect = carrier()
    recording = voicemail_left()
    recordings.fetch_due()
    raw = (data_dir / reread(recording).file).read_bytes()
    assert b"RIFF" not in raw and b"WAVE" not in raw
    assert b"UklGR" not in raw  # not even base64 of the plain audio
    assert raw.startswith(b"e1.")  # a vault token, under the practice's data key
    assert [p.name for p in (data_dir / "recordings").rglob("*")
            if p.is_file()] == [f"{recording.pk}.sealed"]  # no partial file left behind
    mode = (data_dir / reread(recording).file).stat().st_mode & 0o777
    assert mode == 0o600


def test_a_sealed_file_moved_onto_another_recording_does_not_open(gateway, twilio, data_dir):
    twilio.side_effect = carrier()
    first = voicemail_left()
    recordings.fetch_due()
    first = reread(first)
    second = Recording.objects.create(practice=first.practice, call_sid=CALL_SID,
                                      recording_sid="RE" + "f" * 32, source_url="x",
                                      state=Recording.State.STORED,
                                      file=first.file.replace(str(first.pk), "other"))
    second.file = f"recordings/{first.practice_id}/{second.pk}.sealed"
    shutil.copy(data_dir / first.file, data_dir / second.file)
    with pytest.raises(VaultError):
        sealed.open_audio(second)


def test_a_practice_that_keeps_its_recordings_at_twilio_is_not_deleted(gateway, twilio):
    GatewayAccount.objects.filter(pk=gateway.pk).update(delete_recordings=False)
    twilio.side_effect = carrier()
    recording = voicemail_left()
    recordings.fetch_due()
    recording = reread(recording)
    assert recording.state == Recording.State.STORED
    assert recording.deleted_from_vendor_at is None and recording.due_at is None
    assert calls(twilio, "DELETE") == []


def test_a_simulator_voicemail_is_read_from_its_file_and_the_file_deleted(practice, twilio,
                                                                          data_dir):
    make_gateway(practice, test_mode=True, delete_recordings=True)
    simulated = data_dir / "simulator" / "3f2a9c.wav"
    simulated.parent.mkdir()
    simulated.write_bytes(AUDIO)
    recording = voicemail_left(f"loopback://{practice.slug}/3f2a9c.wav")
    assert recordings.fetch_due() == 1
    recording = reread(recording)
    assert recording.state == Recording.State.STORED
    assert sealed.open_audio(recording) == AUDIO
    assert not simulated.exists()  # "deleted at the carrier"
    assert recording.deleted_from_vendor_at is not None
    twilio.assert_not_called()


# The worker closes stale connections between jobs, as a long-running process must; on
# PostgreSQL that would close a test's open transaction, so this test commits.
@pytest.mark.django_db(transaction=True)
def test_the_job_is_registered_with_the_worker(gateway, twilio):
    twilio.side_effect = carrier()
    recording = voicemail_left()
    worker = Worker([job("recordings")])
    assert worker.run_due() == 1 and worker.failed == []
    assert reread(recording).state == Recording.State.STORED


def test_audio_survives_the_twilio_http_client():
    """The real client (no mock): a local server stands in for Twilio's storage, serving
    audio as a carrier does, with no charset. Every byte must come back as it was."""

    class Storage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "audio/x-wav")
            self.send_header("Content-Length", str(len(AUDIO)))
            self.end_headers()
            self.wfile.write(AUDIO)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        account = GatewayAccount(account_sid=ACCOUNT_SID, auth_token=TOKEN)
        client = recordings.audio_client(account)
        response = client.request("GET", f"http://127.0.0.1:{server.server_port}/RE1.wav")
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert response.text.encode("latin-1") == AUDIO


# --- once ----------------------------------------------------------------------------------

def test_a_voicemail_callback_delivered_three_times_is_fetched_once(gateway, twilio):
    twilio.side_effect = carrier()
    with time_machine.travel(T0 - dt.timedelta(minutes=1), tick=False):
        post(VOICE, call())
        for _ in range(3):
            assert post(RECORDING, voicemail()).status_code == 200
    assert Recording.objects.count() == 1
    with time_machine.travel(T0, tick=False):
        recordings.fetch_due()
    with time_machine.travel(T0 + recordings.LEASE * 3, tick=False):
        assert recordings.fetch_due() == 0
    assert len(calls(twilio, "GET")) == 1


def test_a_claimed_recording_is_no_other_workers_until_its_lease_ends(gateway, twilio):
    voicemail_left()
    with time_machine.travel(T0, tick=False):
        (claimed,) = recordings.claim_due()
        assert recordings.claim_due() == []  # a second worker finds nothing
    # The first worker died mid-fetch: after the lease the row is due again, not lost.
    with time_machine.travel(T0 + recordings.LEASE + dt.timedelta(seconds=1), tick=False):
        (again,) = recordings.claim_due()
    assert again.pk == claimed.pk and again.attempts == 2


def test_a_slow_carrier_does_not_hold_the_worker_for_a_whole_batch(gateway, twilio):
    """The worker also sends pages: a pass stops claiming once its time is spent, and what
    it did not claim stays due for the next pass."""
    def slow(client: Any, method: str, url: str, **kwargs: Any) -> Response:
        time.sleep(0.2)
        return Response(200, AUDIO.decode("latin-1")) if method == "GET" else Response(204, "")

    twilio.side_effect = slow
    first = voicemail_left()
    second = Recording.objects.create(practice=first.practice, call_sid=CALL_SID,
                                      recording_sid="RE" + "7" * 32,
                                      source_url=first.source_url.replace(RECORDING_SID,
                                                                          "RE" + "7" * 32),
                                      due_at=first.due_at)
    assert recordings.fetch_due(budget_s=0.1) == 1
    states = {r.pk: (r.state, r.attempts) for r in Recording.objects.all()}
    assert sorted(states.values()) == [(Recording.State.PENDING, 0), (Recording.State.STORED, 0)]
    assert recordings.fetch_due(budget_s=0.1) == 1
    assert reread(second).state == Recording.State.STORED


# --- failures ------------------------------------------------------------------------------

@pytest.mark.parametrize("trouble", [Response(500, "{}"), Response(503, "{}"),
                                     Response(429, "{}"),
                                     requests.ConnectionError("connection refused"),
                                     requests.Timeout("read timed out")])
def test_carrier_trouble_is_retried_with_backoff_then_fails(gateway, twilio, trouble):
    twilio.side_effect = carrier(audio=trouble)
    recording = voicemail_left()
    now = T0
    waits = []
    for attempt in range(1, recordings.MAX_ATTEMPTS + 1):
        with time_machine.travel(now, tick=False):
            assert recordings.fetch_due() == 1
            assert recordings.fetch_due() == 0  # not due again at once
        recording = reread(recording)
        assert recording.attempts == attempt
        if attempt < recordings.MAX_ATTEMPTS:
            assert recording.state == Recording.State.PENDING
            waits.append(recording.due_at - now)
            now = recording.due_at
    assert waits == [claims.backoff(n) for n in range(1, recordings.MAX_ATTEMPTS)]
    assert waits[0] == dt.timedelta(seconds=30) and waits[1] == dt.timedelta(seconds=60)
    assert (recording.state, recording.due_at) == (Recording.State.FAILED, None)
    assert recording.error
    assert len(calls(twilio, "GET")) == recordings.MAX_ATTEMPTS
    assert not (Path(sealed.audio_path(recording))).exists()


def test_a_transient_failure_then_success_stores_it(gateway, twilio):
    twilio.side_effect = carrier(audio=Response(503, "{}"))
    recording = voicemail_left()
    with time_machine.travel(T0, tick=False):
        recordings.fetch_due()
    assert reread(recording).error == "Twilio 503 fetching the recording"
    twilio.side_effect = carrier()
    with time_machine.travel(T0 + dt.timedelta(seconds=31), tick=False):
        recordings.fetch_due()
    recording = reread(recording)
    assert (recording.state, recording.error) == (Recording.State.STORED, "")
    assert sealed.open_audio(recording) == AUDIO


@pytest.mark.parametrize("status", [404, 401, 403])
def test_a_recording_twilio_will_not_give_fails_at_once(gateway, twilio, status):
    twilio.side_effect = carrier(audio=Response(status, "{}"))
    recording = voicemail_left()
    recordings.fetch_due()
    recording = reread(recording)
    assert (recording.state, recording.attempts, recording.due_at) == \
        (Recording.State.FAILED, 1, None)
    assert recording.error == f"Twilio {status} fetching the recording"


def test_a_missing_simulator_file_fails(practice, twilio):
    make_gateway(practice, test_mode=True)
    recording = voicemail_left(f"loopback://{practice.slug}/gone.wav")
    recordings.fetch_due()
    assert reread(recording).state == Recording.State.FAILED
    twilio.assert_not_called()


def test_a_row_with_a_foreign_url_is_never_fetched(gateway, twilio):
    """Belt and braces: the webhook refuses such URLs, and so does the worker."""
    for n, url in enumerate(["https://evil.example/x", "http://169.254.169.254/latest",
                             f"https://api.twilio.com.evil.example/2010-04-01/Accounts/"
                             f"{ACCOUNT_SID}/Recordings/{RECORDING_SID}",
                             "loopback://riverside/gone.wav"]):  # live account: no simulator
        Recording.objects.create(practice=gateway.practice, call_sid=CALL_SID,
                                 recording_sid=f"RE{n:032d}", source_url=url,
                                 due_at=timezone.now())
    assert recordings.fetch_due() == 4
    assert set(Recording.objects.values_list("state", flat=True)) == {Recording.State.FAILED}
    assert all(r.error.startswith("recording URL refused") for r in Recording.objects.all())
    twilio.assert_not_called()


def test_a_failed_deletion_is_retried_without_fetching_again(gateway, twilio):
    twilio.side_effect = carrier(delete=Response(500, "{}"))
    recording = voicemail_left()
    with time_machine.travel(T0, tick=False):
        recordings.fetch_due()
    recording = reread(recording)
    assert recording.state == Recording.State.STORED  # the audio is safe with us
    assert recording.deleted_from_vendor_at is None
    assert recording.due_at == T0 + dt.timedelta(seconds=30)
    twilio.side_effect = carrier()
    with time_machine.travel(T0 + dt.timedelta(seconds=31), tick=False):
        recordings.fetch_due()
    recording = reread(recording)
    assert recording.deleted_from_vendor_at is not None and recording.due_at is None
    assert len(calls(twilio, "GET")) == 1 and len(calls(twilio, "DELETE")) == 2


def test_a_recording_already_gone_at_twilio_counts_as_deleted(gateway, twilio):
    twilio.side_effect = carrier(delete=Response(404, '{"code": 20404, "status": 404}'))
    recording = voicemail_left()
    recordings.fetch_due()
    assert reread(recording).deleted_from_vendor_at is not None


def test_a_deletion_that_never_works_gives_up_but_keeps_the_audio(gateway, twilio):
    twilio.side_effect = carrier(delete=Response(403, '{"code": 20003, "status": 403}'))
    recording = voicemail_left()
    recordings.fetch_due()
    recording = reread(recording)
    assert (recording.state, recording.due_at) == (Recording.State.STORED, None)
    assert recording.error.startswith("not deleted at the carrier")
    assert sealed.open_audio(recording) == AUDIO


def test_nothing_is_fetched_inside_the_webhook(gateway, twilio):
    voicemail_left()
    twilio.assert_not_called()
    assert InboundWebhook.objects.filter(kind=Kind.RECORDING).get().error == ""
