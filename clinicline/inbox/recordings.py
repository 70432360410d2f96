"""Voicemail audio at rest: sealed under the practice's data key in the data dir, one file a
recording, written atomically; opened only by a caller who audits the touch.

The gateway's worker job fetches the audio from the carrier and calls ``store``; the
transcriber calls ``open_audio``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

from clinicline.inbox.models import Recording
from clinicline.vault.keyring import keyring


class RecordingError(Exception):
    """Fetching, storing or deleting failed. ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def audio_aad(recording: Recording) -> bytes:
    # Binds the ciphertext to this recording: a file copied onto another's name won't open.
    return f"gateways_recording.audio.{recording.pk}".encode()


def audio_path(recording: Recording) -> Path:
    return settings.DATA_DIR / "recordings" / str(recording.practice_id) / \
        f"{recording.pk}.sealed"


def store(recording: Recording, audio: bytes) -> str:
    """Seal the audio under the practice's data key and write it atomically (a crash leaves
    the old file or the new one, never half of one); returns the path under DATA_DIR."""
    token = keyring.seal(recording.practice_id, audio_aad(recording), audio)
    path = audio_path(recording)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(token)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
    return path.relative_to(settings.DATA_DIR).as_posix()


def open_audio(recording: Recording) -> bytes:
    """The voicemail's audio. Opening it is a touch of PHI: the caller audits it."""
    if recording.state != Recording.State.STORED or not recording.file:
        raise RecordingError("this recording has not been stored", permanent=True)
    root = (settings.DATA_DIR / "recordings").resolve()
    path = (settings.DATA_DIR / recording.file).resolve()
    if not path.is_relative_to(root):
        raise RecordingError("recording file outside the recordings folder", permanent=True)
    return keyring.open(recording.practice_id, audio_aad(recording),
                        path.read_text(encoding="ascii"))
