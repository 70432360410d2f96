"""Speech for a simulated voicemail: typed words spoken into a WAV file, as a caller's
voice reaches the carrier's recording. Debian's flite or espeak-ng speak; without either,
a second of silence stands in (and the page says so)."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import uuid
import wave
from pathlib import Path

log = logging.getLogger("clinicline.simulator")

SILENCE_S = 1
# Speech engines, best first. flite's "kal" voice speaks at 8 kHz, as a phone line does, and
# the offline recogniser understands it well; espeak-ng's formant voice it mostly does not.
# Spanish: espeak-ng's Latin American voice (flite speaks English only).
VOICES = {
    "en": (("flite", ["-voice", "kal", "-o", "{path}"]),
           ("espeak-ng", ["-v", "en-us", "-s", "130", "-w", "{path}", "--stdin"])),
    "es": (("espeak-ng", ["-v", "es-419", "-s", "130", "-w", "{path}", "--stdin"]),),
}


def speak(words: str, folder: Path, language: str = "en") -> tuple[Path, bool]:
    """The words as speech in a new WAV file, in ``language`` (en or es; a regional code
    such as es-US speaks as its language); silence when no engine can speak them."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}.wav"
    voices = VOICES.get(language.partition("-")[0].lower(), VOICES["en"])
    spoken = any(speak_with(name, args, words, path) for name, args in voices)
    if not spoken:
        write_silence(path)
    path.chmod(0o600)  # a caller's words, in the clear until the worker seals them
    return path, spoken


def speak_with(name: str, args: list[str], words: str, path: Path) -> bool:
    program = shutil.which(name)
    if not program:
        return False
    try:
        # The words go in on stdin: a message starting with "-" is not an option.
        subprocess.run([program, *(a.format(path=path) for a in args)],  # noqa: S603
                       input=words.encode(), capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("%s failed (%s)", name, type(exc).__name__)
        return False
    return True


def write_silence(path: Path, seconds: int = SILENCE_S, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * rate * seconds)


def wav_seconds(path: Path) -> int:
    with wave.open(str(path), "rb") as audio:
        return max(1, math.ceil(audio.getnframes() / audio.getframerate()))
