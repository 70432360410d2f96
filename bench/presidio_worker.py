"""Microsoft Presidio over the same texts, for bench/phi_guard.py: run by whichever Python has
presidio-analyzer (a venv of its own: it is a benchmark extra, never a runtime dependency).

    .venv-bench/bin/python bench/presidio_worker.py pattern|spacy MODEL < texts.json

Reads a JSON list of texts; writes {"findings": [[[start, end, type], ...] per text],
"seconds": analysing time}. ``pattern``: Presidio's pattern recognizers only, over a blank
spaCy pipeline (no model, so no download); ``spacy``: its full analyzer with the named spaCy
model package, which must already be installed.
"""

from __future__ import annotations

import json
import sys
import time

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine


def analyzer(mode: str, model: str) -> AnalyzerEngine:
    if mode == "spacy":
        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
        engine.load()
        return AnalyzerEngine(nlp_engine=engine)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.nlp = {"en": spacy.blank("en")}  # tokens only: nothing to download
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    registry.remove_recognizer("SpacyRecognizer")
    return AnalyzerEngine(nlp_engine=engine, registry=registry)


def main() -> None:
    mode, model = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    texts = json.load(sys.stdin)
    engine = analyzer(mode, model)
    engine.analyze("warm up 617-555-0142", language="en")
    started = time.perf_counter()
    found = [[[r.start, r.end, r.entity_type] for r in engine.analyze(text, language="en")]
             for text in texts]
    json.dump({"findings": found, "seconds": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__":
    main()
