"""Triage measured on generated speech: the development set's English texts spoken by
synthetic voices at a phone's 8 kHz, decoded by the worker's transcription, and triaged as
the worker triages a transcript, beside the same texts triaged as text in the same run.

    nice .venv/bin/python bench/voicemail_eval.py [--limit N] [--voices espeak,kal]
        [--jobs 2] [--audio-cache DIR] [--devset DIR] [--misses N]

Each text of tests/triage/devset/ without a ``lang`` (the speech model is English) is
spoken by each voice: ``espeak`` (espeak-ng, en-us, resampled here from its 22.05 kHz to
8 kHz through a windowed-sinc low-pass), ``kal`` (flite's kal, which speaks at 8 kHz) and
``slt`` (flite's slt, 16 kHz, resampled to 8 kHz). The default is espeak, and kal when
flite is installed. ``--limit N`` keeps at most N texts of each label, spread evenly over
the set. The clip goes through ``transcribe.transcribe(audio, spec.spoken_phrases)`` (the
general model's transcript, then keyword spotting over the protocol's spoken red flags:
exactly what the worker runs) and the result is decided as ``raise_priority`` decides it,
``decide(spec, call_type, answers, heard.texts)``, under the shipped default protocol
compiled from its file.

Per voice and label it prints the count, the share decided at or above the label on
speech and on text, and their ratio (speech / text); for routine calls, the share kept
routine. Then how many clips only the spotted phrases saved (the transcript alone would
have missed them), every speech miss whose text was decided right (the text and what was
heard), the routine calls speech raised, and clips per second (decoding and triage, not
synthesis) with the real-time factor. The last line is one JSON object of the raw figures:
{"clips", "texts", "voices", "phrases", "phrases_speakable", "<label>_n",
"<label>_text_hit", "<label>_speech_hit", "<label>_transcript_only_hit",
"<label>_text_sensitivity", "<label>_speech_sensitivity", "<label>_ratio" for emergency
and urgent (counted over clips), "routine_n", "routine_text_kept", "routine_speech_kept",
"routine_text_kept_share", "routine_speech_kept_share", "speech_misses", "spotted_only",
"clips_per_s" (per process), "audio_s", "decode_s", "jobs", "wall_clips_per_s",
"realtime_factor", "by_voice": {voice: the same
label figures}}.
"""

from __future__ import annotations

import argparse
import array
import functools
import hashlib
import io
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicline.settings")
django.setup()  # the transcription module imports the inbox's models

from bench.triage_eval import DEVSET, Entry, default_spec, load  # noqa: E402
from clinicline.intake import transcribe  # noqa: E402
from clinicline.triage.engine import Decision, decide  # noqa: E402
from clinicline.triage.spec import Priority, ProtocolSpec  # noqa: E402

PHONE_RATE = 8000
PHONE_BAND_HZ = 3400  # a phone line passes 300-3400 Hz
LABELS = (Priority.EMERGENCY, Priority.URGENT, Priority.ROUTINE)


# --- voices ---------------------------------------------------------------------------------

def espeak(words: str) -> bytes:
    return subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", "--stdin"],
                          input=words.encode(), capture_output=True, check=True,
                          timeout=120).stdout


def flite(voice: str) -> Callable[[str], bytes]:
    def speak(words: str) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            text, out = Path(folder) / "words.txt", Path(folder) / "speech.wav"
            text.write_text(words, encoding="utf-8")
            subprocess.run(["flite", "-voice", voice, "-f", str(text), "-o", str(out)],
                           capture_output=True, check=True, timeout=120)
            return out.read_bytes()
    return speak


VOICES: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "espeak": ("espeak-ng", espeak), "kal": ("flite", flite("kal")),
    "slt": ("flite", flite("slt")),
}


def default_voices() -> list[str]:
    return ["espeak", *(["kal"] if shutil.which("flite") else [])]


# --- to a phone's rate ----------------------------------------------------------------------

@functools.cache
def kernel(rate: int, phases: int = 32, half: int = 12) -> list[list[float]]:
    """A Hann-windowed sinc low-pass at the phone band, sampled at ``phases`` fractional
    offsets, each ``2 * half`` input taps wide."""
    cutoff = PHONE_BAND_HZ / rate
    table = []
    for p in range(phases):
        frac = p / phases
        taps = []
        for k in range(-half + 1, half + 1):
            x = k - frac
            sinc = 2 * cutoff if x == 0 else math.sin(2 * math.pi * cutoff * x) / (math.pi * x)
            taps.append(sinc * (0.5 + 0.5 * math.cos(math.pi * x / half)))
        table.append(taps)
    return table


def to_phone(audio: bytes) -> bytes:
    """The clip as a phone line carries it: band-limited, 8 kHz, 16-bit mono WAV."""
    pcm = transcribe.read_wav(audio)
    if pcm.rate == PHONE_RATE:
        return audio
    samples, table = pcm.samples, kernel(pcm.rate)
    phases, half, last = len(table), len(table[0]) // 2, len(pcm.samples) - 1
    out = array.array("h")
    for i in range(len(samples) * PHONE_RATE // pcm.rate):
        t = i * pcm.rate / PHONE_RATE
        j = int(t)
        taps = table[int((t - j) * phases)]
        value = sum(w * samples[min(max(j + k, 0), last)]
                    for w, k in zip(taps, range(-half + 1, half + 1), strict=True))
        out.append(max(-32768, min(32767, round(value))))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(PHONE_RATE)
        wav.writeframes(out.tobytes())
    return buffer.getvalue()


# --- the run --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Clip:
    entry: Entry
    voice: str
    heard: transcribe.Heard
    text: Decision         # the words triaged as text
    speech: Decision       # what was heard, triaged as the worker triages it
    transcript: Decision   # the general model's transcript alone, without spotted phrases
    seconds: float         # of audio

    def hit(self, decision: Decision) -> bool:
        if self.entry.lowest == Priority.ROUTINE:
            return decision.priority == Priority.ROUTINE
        return decision.priority.rank >= self.entry.lowest.rank


def sample(entries: list[Entry], limit: int | None) -> list[Entry]:
    """The English texts; at most ``limit`` of each label, spread evenly."""
    chosen = []
    for label in LABELS:
        of = [e for e in entries if e.lowest == label and e.lang is None]
        if limit is not None and len(of) > limit:
            of = [of[i * len(of) // limit] for i in range(limit)]
        chosen += of
    return chosen


@functools.cache
def spec_in_force() -> ProtocolSpec:
    return default_spec()


def phone_audio(voice: str, entry: Entry, cache: Path | None) -> bytes:
    """The entry spoken by ``voice`` at 8 kHz; kept in ``cache`` so that a second run (the
    protocol changed) hears the very same clips, and skips synthesis."""
    if cache is None:
        return to_phone(VOICES[voice][1](entry.text))
    path = cache / voice / f"{hashlib.sha256(entry.text.encode()).hexdigest()[:20]}.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_phone(VOICES[voice][1](entry.text)))
    return path.read_bytes()


def hear(task: tuple[str, Entry, Path | None]) -> tuple[Clip, float]:
    """One clip, spoken and through the worker's path; returns it and the seconds the
    decoding and triage took (not the synthesis)."""
    voice, entry, cache = task
    spec = spec_in_force()
    audio = phone_audio(voice, entry, cache)
    start = time.perf_counter()
    heard = transcribe.transcribe(audio, spec.spoken_phrases)
    speech = decide(spec, entry.call_type, entry.answers, heard.texts)
    took = time.perf_counter() - start
    pcm = transcribe.read_wav(audio)
    return Clip(entry, voice, heard, decide(spec, entry.call_type, entry.answers, [entry.text]),
                speech, decide(spec, entry.call_type, entry.answers, [heard.transcript]),
                len(pcm.samples) / pcm.rate), took


def figures(clips: list[Clip]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in LABELS:
        of = [c for c in clips if c.entry.lowest == label]
        text = sum(c.hit(c.text) for c in of)
        speech = sum(c.hit(c.speech) for c in of)
        if label == Priority.ROUTINE:
            out |= {"routine_n": len(of), "routine_text_kept": text,
                    "routine_speech_kept": speech,
                    "routine_text_kept_share": round(text / (len(of) or 1), 4),
                    "routine_speech_kept_share": round(speech / (len(of) or 1), 4)}
            continue
        out |= {f"{label}_n": len(of), f"{label}_text_hit": text,
                f"{label}_speech_hit": speech,
                f"{label}_transcript_only_hit": sum(c.hit(c.transcript) for c in of),
                f"{label}_text_sensitivity": round(text / (len(of) or 1), 4),
                f"{label}_speech_sensitivity": round(speech / (len(of) or 1), 4),
                f"{label}_ratio": round(speech / (text or 1), 4)}
    return out


def _heard(clip: Clip) -> str:
    phrases = "; ".join(clip.heard.phrases) or "-"
    return f"      heard: {clip.heard.transcript!r}\n      spotted: {phrases}"


def report(clips: list[Clip], voices: list[str], show: int) -> None:
    print(f"{'voice':<8} {'label':<10} {'clips':>5} {'speech':>7} {'text':>7} {'ratio':>6}")
    for voice in voices:
        by = figures([c for c in clips if c.voice == voice])
        for label in LABELS[:2]:
            print(f"{voice:<8} {label:<10} {by[f'{label}_n']:>5} "
                  f"{by[f'{label}_speech_sensitivity']:>7.1%} "
                  f"{by[f'{label}_text_sensitivity']:>7.1%} {by[f'{label}_ratio']:>6.3f}")
        print(f"{voice:<8} {'routine':<10} {by['routine_n']:>5} "
              f"{by['routine_speech_kept_share']:>7.1%} {by['routine_text_kept_share']:>7.1%}"
              f"  (kept routine)")
    saved = [c for c in clips if c.entry.lowest != Priority.ROUTINE and c.hit(c.speech)
             and not c.hit(c.transcript)]
    print(f"raised to their label only by spotted phrases: {len(saved)}")
    missed = [c for c in clips if c.entry.lowest != Priority.ROUTINE and c.hit(c.text)
              and not c.hit(c.speech)]
    raised = [c for c in clips if c.entry.lowest == Priority.ROUTINE and not c.hit(c.speech)]
    for title, rows in (("missed on speech (decided right as text)", missed),
                        ("routine calls raised on speech", raised)):
        rows = sorted(rows, key=lambda c: (-c.entry.lowest.rank, c.entry.presentation, c.voice))
        print(f"{title}: {len(rows)}" + (f", first {show} shown" if len(rows) > show else ""))
        for clip in rows[:show]:
            print(f"  {clip.voice:<7} got {clip.speech.priority:<9} wanted "
                  f"{clip.entry.lowest:<9} {clip.entry.presentation}: {clip.entry.text!r}\n"
                  f"{_heard(clip)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--limit", type=int, default=None, help="texts of each label at most")
    parser.add_argument("--voices", default=",".join(default_voices()),
                        help=f"comma-separated, of {', '.join(VOICES)}")
    parser.add_argument("--audio-cache", type=Path, default=None,
                        help="keep the generated clips here and reuse them")
    parser.add_argument("--jobs", type=int, default=1, help="decoding processes")
    parser.add_argument("--misses", type=int, default=1000, help="how many of each to list")
    args = parser.parse_args()
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    unknown = [v for v in voices if v not in VOICES]
    if unknown or not voices:
        parser.error(f"unknown voice {unknown[0] if unknown else '(none)'}; "
                     f"choose from {', '.join(VOICES)}")
    for voice in voices:
        if not shutil.which(VOICES[voice][0]):
            parser.error(f"{VOICES[voice][0]} is not installed (Debian package; `make debian`)")
    spec = spec_in_force()
    entries = sample(load(args.devset), args.limit)
    clips, decode_s, started = [], 0.0, time.perf_counter()
    tasks = [(v, e, args.audio_cache) for v in voices for e in entries]
    # Each process makes its own decoders (pocketsphinx's are not shared between processes).
    with multiprocessing.Pool(args.jobs) as pool:
        done = pool.imap(hear, tasks, chunksize=4) if args.jobs > 1 else map(hear, tasks)
        for n, (clip, took) in enumerate(done, 1):
            clips.append(clip)
            decode_s += took
            if n % 50 == 0:
                print(f"  {n}/{len(tasks)} clips, "
                      f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    wall_s = time.perf_counter() - started
    speakable = transcribe.speakable(spec.spoken_phrases)
    print(f"{len(entries)} texts x {len(voices)} voice(s) ({', '.join(voices)}) = "
          f"{len(clips)} clips at {PHONE_RATE} Hz; {len(spec.spoken_phrases)} spoken "
          f"red-flag phrases ({len(speakable)} in the dictionary)")
    report(clips, voices, args.misses)
    audio_s = sum(c.seconds for c in clips)
    print(f"speed: {len(clips) / decode_s:.2f} clips/s decoded and triaged "
          f"({audio_s:.0f} s of audio in {decode_s:.0f} s, real-time factor "
          f"{decode_s / audio_s:.3f}) per process; {len(clips) / wall_s:.2f} clips/s on the "
          f"wall clock with {args.jobs} process(es), synthesis included")
    result: dict[str, Any] = {"clips": len(clips), "texts": len(entries), "voices": voices,
                              "phrases": len(spec.spoken_phrases),
                              "phrases_speakable": len(speakable)}
    result |= figures(clips)
    result |= {"speech_misses": sum(c.entry.lowest != Priority.ROUTINE and c.hit(c.text)
                                    and not c.hit(c.speech) for c in clips),
               "spotted_only": sum(c.entry.lowest != Priority.ROUTINE and c.hit(c.speech)
                                   and not c.hit(c.transcript) for c in clips),
               "clips_per_s": round(len(clips) / decode_s, 3), "audio_s": round(audio_s, 1),
               "decode_s": round(decode_s, 1), "jobs": args.jobs,
               "wall_clips_per_s": round(len(clips) / wall_s, 3),
               "realtime_factor": round(decode_s / audio_s, 4),
               "by_voice": {v: figures([c for c in clips if c.voice == v]) for v in voices}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
