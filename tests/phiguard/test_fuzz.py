"""Whatever text or JSON line arrives, the guard answers: spans inside the text, and no
exception; the command answers each line with a verdict or a reason."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinicline import phiguard
from clinicline.phiguard import Recipient

WALTER = Recipient(name="Walter Okafor", date_of_birth=dt.date(1958, 4, 2), mrn="RFM-100142",
                   address="14 Elm Street", phone="+16175550142")
PIECES = st.sampled_from(["Walter", "04/02/1958", "617-555-0142", "A1C", "Dr.", " ", "\n",
                          "http://", "@", "1958", "Apr 2", "Mr.", "-", "'", "é", "ß"])


@given(st.lists(st.one_of(st.text(max_size=40), PIECES), max_size=12).map("".join))
@example("HTTP://[")  # links urlsplit refuses (the guard raised on them)
@example("HTTP://[]")
@example("×" + "9" * 60 + "Mr.'°Mr.")  # backtracked for minutes in the record-number shape
@settings(max_examples=300, deadline=None)
def test_any_text_gets_a_verdict_with_spans_inside_it(text):
    verdict = phiguard.check(text, recipient=WALTER, allowed_numbers=["+16175550100"],
                             link_host="clinic.example.org", practice_name="Demo",
                             allowed_names=["Amara Osei"], allow_dates=True)
    for finding in verdict.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.category in ("identifier", "clinical")
    assert verdict.verdict == ("allow" if not verdict.findings else "block")


OTHER = Recipient(name="Ada Lee", date_of_birth=dt.date(1990, 7, 4), mrn="RFM-7",
                  phone="+16175550199")


@given(st.lists(st.one_of(st.text(max_size=40), PIECES), max_size=12).map("".join))
@settings(max_examples=300, deadline=None)
def test_a_reused_look_says_what_a_fresh_one_says_whoever_looked_first(text):
    """``reuse`` keeps the look that does not depend on the recipient: the verdict for
    Walter is the same whether Ada's look at the same words came first, or none did."""
    options = {"allowed_numbers": ["+16175550100"], "link_host": "clinic.example.org",
               "practice_name": "Demo", "allowed_names": ["Amara Osei"], "allow_dates": True}
    fresh = phiguard.check(text, recipient=WALTER, **options)
    phiguard.check(text, recipient=OTHER, reuse=True, **options)
    assert phiguard.check(text, recipient=WALTER, reuse=True, **options) == fresh
    assert phiguard.check(text, reuse=True, **options) == phiguard.check(text, **options)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)
ROWS = st.fixed_dictionaries({}, optional={
    "id": JSON_VALUES, "text": JSON_VALUES, "practice": JSON_VALUES,
    "recipient": JSON_VALUES | st.fixed_dictionaries({}, optional={
        k: JSON_VALUES for k in ("name", "date_of_birth", "mrn", "address", "phone")})})


@pytest.mark.django_db
@given(st.lists(ROWS.map(json.dumps) | st.text(max_size=30).filter(lambda s: "\n" not in s),
                min_size=1, max_size=5))
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_lines_get_one_answer_each(monkeypatch, lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("phi_check", "--jsonl", stdout=out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(answers) == sum(1 for line in lines if line.strip())
    assert exited.value.code in (0, 1, 2)
    assert all("verdict" in a or "error" in a for a in answers)
