"""Triage benchmark: how many free texts per second the red-flag detector and decide() get
through, against a trivial pass over the same texts (``str.lower``) in the same run.

    .venv/bin/python bench/triage.py [--data PATH] [--rounds 7]

The texts are the 1,500 sentences of the synthetic PII data set (names, addresses, account
numbers: what a careless caller might say, and nothing clinical), so the figure is the cost
of reading text that mostly flags nothing; the number of texts that did raise a priority is
printed too (each is a false alarm). Needs no database: the shipped default protocol is
compiled straight from its file. Prints human lines, then one JSON line:
{"texts", "texts_per_s", "baseline_per_s", "ratio"} (ratio = texts_per_s / baseline_per_s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinicline.triage import yamlio  # noqa: E402  (after the path is set)
from clinicline.triage.engine import decide  # noqa: E402
from clinicline.triage.spec import Priority, ProtocolSpec, compile_protocol  # noqa: E402

# ../shared beside the checkout, as in CI.
SHARED = Path(os.environ.get("CLINICLINE_SHARED") or ROOT.parent / "shared")
DATA = SHARED / "data" / "pii-synthetic" / "synth_dataset_v2.json"
PROTOCOL = ROOT / "clinicline" / "triage" / "default_protocol.yaml"


def load_texts(path: Path) -> list[str]:
    return [row["full_text"] for row in json.loads(path.read_text(encoding="utf-8"))]


def per_second(texts: list[str], work: Callable[[str], object], rounds: int) -> float:
    """Texts per second, from the median of ``rounds`` timed passes over all texts."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            work(text)
        times.append(time.perf_counter() - start)
    return len(texts) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    texts = load_texts(args.data)
    spec: ProtocolSpec = compile_protocol(yamlio.load(PROTOCOL.read_text()), 1)

    def triage(text: str) -> object:
        return decide(spec, None, {}, [text])

    triage(texts[0])  # warm up: the regex engine compiles lazily on first use
    baseline = per_second(texts, str.lower, args.rounds)
    measured = per_second(texts, triage, args.rounds)
    raised = sum(triage(t).priority != Priority.ROUTINE for t in texts)
    print(f"{len(texts)} texts, median of {args.rounds} rounds")
    print(f"detector + decide: {measured:,.0f} texts/s ({1e6 / measured:.0f} µs each); "
          f"str.lower: {baseline:,.0f} texts/s")
    print(f"texts that raised a priority: {raised}")
    print(json.dumps({"texts": len(texts), "texts_per_s": round(measured, 1),
                      "baseline_per_s": round(baseline, 1),
                      "ratio": round(measured / baseline, 6)}))


if __name__ == "__main__":
    main()
