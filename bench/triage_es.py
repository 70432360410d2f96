"""Spanish triage benchmark: how well the default protocol's Spanish lexicon triages the
labelled Spanish set, and what the lexicon costs the English texts.

    .venv/bin/python bench/triage_es.py [--data PATH] [--rounds 7]

Sensitivity is the share of the set's Spanish emergencies decided an emergency by the
expected rule (urgent: urgent or higher, by the expected rule); specificity the share of
its routine Spanish texts that fire no rule (tests/triage/phrasings_es.py). The set was
written beside the lexicon, so it measures what the lexicon knows, not phrasings it has
never seen. Speed: detector + decide() over the 1,500 English sentences that
bench/triage.py reads, with the shipped protocol and with the same protocol stripped of its
``languages`` (English only), in alternating rounds of the same run. Needs no database.
Prints human lines, then one JSON line: {"emergency", "sensitivity", "urgent",
"urgent_sensitivity", "routine", "specificity", "texts", "texts_per_s",
"english_only_per_s", "ratio"} (ratio = texts_per_s / english_only_per_s).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage import DATA, PROTOCOL, load_texts  # noqa: E402  (bench/triage.py)

from clinicline.triage import yamlio  # noqa: E402  (after the path is set)
from clinicline.triage.engine import decide  # noqa: E402
from clinicline.triage.spec import ProtocolSpec, compile_protocol  # noqa: E402
from tests.triage.phrasings_es import measure  # noqa: E402


def english_only(document: dict[str, Any]) -> dict[str, Any]:
    """The protocol as a version stored before it had languages."""
    stripped = copy.deepcopy(document)
    for flag in stripped.get("red_flags", []):
        flag.pop("languages", None)
    return stripped


def timed(texts: list[str], spec: ProtocolSpec) -> float:
    start = time.perf_counter()
    for text in texts:
        decide(spec, None, {}, [text])
    return time.perf_counter() - start


def alternating(texts: list[str], specs: list[ProtocolSpec], rounds: int) -> list[float]:
    """Texts per second for each spec, from the median of ``rounds`` passes; the specs take
    turns within each round, so a busy minute slows them alike."""
    times: list[list[float]] = [[] for _ in specs]
    for _ in range(rounds):
        for i, spec in enumerate(specs):
            times[i].append(timed(texts, spec))
    return [len(texts) / statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    document = yamlio.load(PROTOCOL.read_text(encoding="utf-8")).data
    spec = compile_protocol(document, 1)
    english = compile_protocol(english_only(document), 1)
    figures = measure(spec)
    texts = load_texts(args.data)
    for warm in (spec, english):  # the regex engine compiles lazily on first use
        timed(texts[:50], warm)
    with_spanish, without = alternating(texts, [spec, english], args.rounds)
    print(f"Spanish set: {figures.emergency} emergencies, sensitivity "
          f"{figures.sensitivity:.3f}; {figures.urgent} urgent, sensitivity "
          f"{figures.urgent_sensitivity:.3f}; {figures.routine} routine, specificity "
          f"{figures.specificity:.3f}")
    for text in figures.missed + figures.raised:
        print(f"  wrong: {text}")
    print(f"{len(texts)} English texts, median of {args.rounds} rounds: with Spanish "
          f"{with_spanish:,.0f} texts/s, English only {without:,.0f} texts/s")
    print(json.dumps({"emergency": figures.emergency,
                      "sensitivity": round(figures.sensitivity, 4),
                      "urgent": figures.urgent,
                      "urgent_sensitivity": round(figures.urgent_sensitivity, 4),
                      "routine": figures.routine,
                      "specificity": round(figures.specificity, 4),
                      "texts": len(texts), "texts_per_s": round(with_spanish, 1),
                      "english_only_per_s": round(without, 1),
                      "ratio": round(with_spanish / without, 4)}))


if __name__ == "__main__":
    main()
