"""PHI guard benchmark: recall and precision per entity type on the synthetic PII data set,
texts per second, and the block rate on callers' clinical free text, beside Microsoft
Presidio in the same run.

    .venv/bin/python bench/phi_guard.py [--data PATH] [--rounds 5]
        [--presidio-python .venv-bench/bin/python] [--spacy-model en_core_web_sm] [--misses]

Scoring is a blocker's: a labelled span is found when any identifier finding overlaps it
(of whatever type; the typed recall, where the type must agree too, is printed beside it),
and a finding is right when it overlaps a labelled identifier. Labels out of scope (below)
count neither way: a finding on "Uruguay" is not scored. Presidio is scored the same way
with all its entity types. Its columns are skipped, with a note, when no interpreter with
presidio-analyzer is given; its spaCy analyzer runs only with --spacy-model naming an
installed model package.

Clinical free text: every text of the triage development set (tests/triage/devset/, callers'
descriptions) should be blocked; the safe templates below should pass. Ends with one JSON
line: {"recall", "recall_hipaa_scope", "precision", "texts_per_s", "clinical_block_rate",
"safe_pass_rate", "presidio_pattern": {...}, "presidio_spacy": {...} | null, "ratio"}
(ratio = our texts_per_s / Presidio's pattern-only texts_per_s; recall_hipaa_scope leaves
out the labels that are a bare weekday or a year of this century, no HIPAA identifier).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess  # noqa: S404 (Presidio runs in its own interpreter)
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinicline import phiguard  # noqa: E402  (after the path is set)

SHARED = Path(os.environ.get("CLINICLINE_SHARED") or ROOT.parent / "shared")
DATA = SHARED / "data" / "pii-synthetic" / "synth_dataset_v2.json"
DEVSET = ROOT / "tests" / "triage" / "devset"
WORKER = Path(__file__).resolve().parent / "presidio_worker.py"

# The data set's labels as our types. HIPAA's identifiers include account, certificate and
# licence numbers (cards, IBANs, driving licences) and URLs (domains).
IN_SCOPE = {
    "PERSON": "person_name", "STREET_ADDRESS": "address", "ZIP_CODE": "address",
    "PHONE_NUMBER": "phone", "DATE_TIME": "date", "EMAIL_ADDRESS": "email",
    "US_SSN": "ssn", "IP_ADDRESS": "ip", "CREDIT_CARD": "record_number",
    "IBAN_CODE": "record_number", "US_DRIVER_LICENSE": "record_number",
    "DOMAIN_NAME": "url",
}
# Out of scope: ORGANIZATION (a company is nobody's identifier), NRP (nationality, religion,
# politics), TITLE ("Mr.", "Dr."), AGE (HIPAA names only ages over 89), GPE (mostly
# countries and regions; a city in an address is scored under STREET_ADDRESS).
OUT_OF_SCOPE = ("ORGANIZATION", "NRP", "TITLE", "AGE", "GPE")

# What clinicline sends and the guard must let through (with the practice's options below).
SAFE = [
    "Hello, this is a message from Dr. Amara Osei's office regarding your appointment. "
    "Please call us back at 617-555-0100. Thank you.",
    "Reminder: you have an appointment with Dr. Osei at Demo Family Medicine on Thu Dec 10 "
    "at 9:30 AM. Reply C to confirm, R to reschedule, STOP to opt out.",
    "URGENT message for Demo Family Medicine: open https://clinic.example.org/p/demo/"
    "pages/3f2a9c1e-4b7d/ or reply 1 to acknowledge (code 4821).",
    "If this is a medical emergency, call 911 now. Please do not wait for a reply to your text.",
    "We received your text and will reply during office hours. Texts are not for emergencies: "
    "if this is a medical emergency, call 911.",
    "Call Poison Control now at 1-800-222-1222, or call or text 988.",
    "Demo Family Medicine: please call us at (617) 555-0100 about your invoice.",
    "Your clinicline verification code is 482913. It expires in 10 minutes.",
    "3 new messages in Front desk",
    "Demo Family Medicine: an URGENT message has not been acknowledged by anyone on call. "
    "Sign in to clinicline now.",
]
OPTIONS = {"allowed_numbers": ["+16175550100"], "link_host": "clinic.example.org",
           "practice_name": "Demo Family Medicine", "allowed_names": ["Amara Osei"],
           "allow_dates": True}
# Labels no HIPAA identifier: a weekday alone names no date, and a year alone is allowed
# (the Safe Harbor method keeps years). Reported beside the full recall, never instead of it.
NOT_HIPAA = re.compile(r"(?i)(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
                       r"|20\d\d)")
PRESIDIO_TYPES = {"PERSON": "person_name", "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email",
                  "DATE_TIME": "date", "US_SSN": "ssn", "IP_ADDRESS": "ip", "URL": "url",
                  "LOCATION": "address"}

Span = tuple[int, int, str]


def load(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def devset_texts() -> list[str]:
    return [entry["text"] for path in sorted(DEVSET.glob("*.yaml"))
            for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]]


def ours(texts: list[str]) -> list[list[Span]]:
    return [[(f.start, f.end, f.type) for f in phiguard.check(t).findings
             if f.category == "identifier"] for t in texts]


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(rows: list[dict], found: list[list[Span]]) -> dict:
    """Recall per label, precision per finding type, and both overall."""
    seen, hit, typed = Counter(), Counter(), Counter()
    hipaa_seen = hipaa_hit = 0
    made, right = Counter(), Counter()
    for row, findings in zip(rows, found, strict=True):
        gold = [(s["start_position"], s["end_position"], s["entity_type"]) for s in row["spans"]]
        scored = [g for g in gold if g[2] in IN_SCOPE]
        ignored = [g for g in gold if g[2] not in IN_SCOPE]
        for start, end, label in scored:
            seen[label] += 1
            near = [f for f in findings if overlaps(f[:2], (start, end))]
            hit[label] += bool(near)
            if not (label == "DATE_TIME" and NOT_HIPAA.fullmatch(row["full_text"][start:end])):
                hipaa_seen, hipaa_hit = hipaa_seen + 1, hipaa_hit + bool(near)
            typed[label] += any(f[2] == IN_SCOPE[label] for f in near)
        for start, end, kind in findings:
            if any(overlaps((start, end), g[:2]) for g in scored):
                made[kind] += 1
                right[kind] += 1
            elif not any(overlaps((start, end), g[:2]) for g in ignored):
                made[kind] += 1
    return {
        "recall": round(sum(hit.values()) / max(1, sum(seen.values())), 4),
        "recall_hipaa_scope": round(hipaa_hit / max(1, hipaa_seen), 4),
        "precision": round(sum(right.values()) / max(1, sum(made.values())), 4),
        "per_label": {k: {"n": seen[k], "recall": round(hit[k] / seen[k], 3),
                          "typed_recall": round(typed[k] / seen[k], 3)} for k in sorted(seen)},
        "per_type": {k: {"n": made[k], "precision": round(right[k] / made[k], 3)}
                     for k in sorted(made)},
    }


def print_misses(rows: list[dict], found: list[list[Span]]) -> None:
    """Each labelled span no finding overlaps, with its context (the data set is synthetic)."""
    print("\nmissed labels:")
    for number, (row, findings) in enumerate(zip(rows, found, strict=True)):
        text = row["full_text"]
        for span in row["spans"]:
            start, end, label = span["start_position"], span["end_position"], span["entity_type"]
            if label in IN_SCOPE and not any(overlaps(f[:2], (start, end)) for f in findings):
                print(f"  {number:>4} {label:<15} {text[max(0, start - 40):start]!r} "
                      f"[{text[start:end]}] {text[end:end + 30]!r}")


def timed(texts: list[str], rounds: int) -> float:
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            phiguard.check(text)
        per_round.append(time.perf_counter() - started)
    return len(texts) / statistics.median(per_round)


def presidio(python: str, mode: str, model: str, texts: list[str]) -> dict | None:
    result = subprocess.run([python, str(WORKER), mode, model], input=json.dumps(texts),  # noqa: S603
                            capture_output=True, text=True, check=False)
    if result.returncode:
        print(f"presidio ({mode}) did not run: {result.stderr.strip().splitlines()[-1:]}")
        return None
    answer = json.loads(result.stdout)
    answer["findings"] = [[(s, e, PRESIDIO_TYPES.get(t, "record_number")) for s, e, t in row]
                          for row in answer["findings"]]
    return answer


def report(name: str, scored: dict, per_s: float, block: float, safe: float) -> None:
    print(f"\n{name}: identifier recall {scored['recall']:.4f} (without bare weekdays and "
          f"years: {scored['recall_hipaa_scope']:.4f}), precision "
          f"{scored['precision']:.4f}, {per_s:,.0f} texts/s; clinical texts blocked "
          f"{block:.1%}, safe texts passed {safe:.0%}")
    for label, row in scored["per_label"].items():
        print(f"  {label:<18} n={row['n']:<4} recall {row['recall']:.3f}  "
              f"(typed {row['typed_recall']:.3f})")
    for kind, row in scored["per_type"].items():
        print(f"  found {kind:<14} n={row['n']:<4} precision {row['precision']:.3f}")


def summary(scored: dict, per_s: float, block: float, safe: float) -> dict:
    return {"recall": scored["recall"], "recall_hipaa_scope": scored["recall_hipaa_scope"],
            "precision": scored["precision"],
            "texts_per_s": round(per_s), "clinical_block_rate": round(block, 4),
            "safe_pass_rate": round(safe, 4)}


def presidio_summary(python: str, mode: str, model: str, rows: list[dict], texts: list[str],
                     clinical: list[str]) -> dict | None:
    answer = presidio(python, mode, model, texts + clinical + SAFE)
    if answer is None:
        return None
    found = answer["findings"]
    scored = score(rows, found[:len(texts)])
    block = sum(bool(f) for f in found[len(texts):len(texts) + len(clinical)]) / len(clinical)
    safe = sum(not f for f in found[len(texts) + len(clinical):]) / len(SAFE)
    per_s = len(found) / answer["seconds"]
    report(f"Presidio, {mode}", scored, per_s, block, safe)
    return summary(scored, per_s, block, safe)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--presidio-python", default="")
    parser.add_argument("--spacy-model", default="")
    parser.add_argument("--misses", action="store_true",
                        help="print each labelled span the guard missed, with its context")
    args = parser.parse_args()
    rows = load(args.data)
    texts = [row["full_text"] for row in rows]
    clinical = devset_texts()
    phiguard.check("warm up: the lexicons load once")
    found = ours(texts)
    scored = score(rows, found)
    per_s = timed(texts, args.rounds)
    block = sum(not phiguard.check(t).allowed for t in clinical) / len(clinical)
    safe = sum(phiguard.check(t, **OPTIONS).allowed for t in SAFE) / len(SAFE)
    print(f"{len(texts)} synthetic texts ({', '.join(OUT_OF_SCOPE)} out of scope); "
          f"{len(clinical)} clinical texts from the triage development set; {len(SAFE)} safe")
    report("clinicline phiguard", scored, per_s, block, safe)
    if args.misses:
        print_misses(rows, found)
    result = {**summary(scored, per_s, block, safe), "texts": len(texts),
              "presidio_pattern": None, "presidio_spacy": None, "ratio": None}
    if not args.presidio_python:
        print("\nPresidio: skipped (give --presidio-python, an interpreter with "
              "presidio-analyzer)")
    else:
        result["presidio_pattern"] = presidio_summary(args.presidio_python, "pattern", "",
                                                      rows, texts, clinical)
        if args.spacy_model:
            result["presidio_spacy"] = presidio_summary(args.presidio_python, "spacy",
                                                        args.spacy_model, rows, texts, clinical)
        else:
            print("\nPresidio, spacy: skipped (no --spacy-model: no spaCy model package is "
                  "installed; PyPI has only third-party re-uploads of en_core_web_sm)")
    pattern = result["presidio_pattern"]
    if isinstance(pattern, dict) and pattern["texts_per_s"]:
        result["ratio"] = round(per_s / pattern["texts_per_s"], 2)
        print(f"\nratio: phiguard is {result['ratio']}x Presidio's pattern-only analyzer")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
