"""``clinicline triage``: a text on stdin gives one JSON decision; --jsonl gives one line per
input carrying its id, an error line for a bad input, and a failing exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.support_proc import TIMEOUT_S, base_env, clinicline

URGENT_CLINICAL = ("Knee surgery two days ago. Calf is swollen and painful, and since "
                   "tonight he is short of breath.")
# Why, in the caller's words: the command's output is as sensitive as its input.
BECAUSE = ['"short of breath" → breathing, emergency',
           '"Knee surgery" + "Calf is swollen and painful" → post-op-warning-signs, urgent',
           '"Calf is swollen and painful" → dvt, urgent']


def run(*args: str, stdin: str) -> list[dict]:
    out = io.StringIO()
    call_command("triage", *args, stdin=io.StringIO(stdin), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_text_on_stdin_gives_its_decision(practice):
    assert run("--practice", "riverside", stdin=URGENT_CLINICAL) == [{
        "priority": "emergency", "rules": ["breathing", "post-op-warning-signs", "dvt"],
        "because": BECAUSE, "protocol_version": 1}]


@pytest.mark.django_db
def test_the_call_type_takes_part(practice):
    assert run("--practice", "riverside", "--call-type", "refill", stdin="lisinopril 20 mg") \
        == [{"priority": "routine", "rules": ["refill"],
             "because": ["call type refill → refill, routine"], "protocol_version": 1}]


@pytest.mark.django_db
def test_jsonl_answers_each_line_and_reports_bad_ones(practice):
    lines = "\n".join([
        json.dumps({"id": "a1", "text": "no chest pain but he can't breathe"}),
        "{not json",
        json.dumps({"id": 7, "text": "needs a refill"}),
        "",
        json.dumps({"id": "b2", "text": None}),
        json.dumps({"text": "no id"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "c3", "text": "my 6 week old has a fever"}),
    ])
    out = io.StringIO()
    with pytest.raises(CommandError, match="4 line"):
        call_command("triage", "--practice", "riverside", "--jsonl",
                     stdin=io.StringIO(lines), stdout=out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["id"], r.get("priority"), r.get("line")) for r in results] == [
        ("a1", "emergency", None), (None, None, 2), (7, "routine", None), ("b2", None, 5),
        (None, None, 6), (None, None, 7), ("c3", "emergency", None)]
    assert results[1]["error"].startswith("not JSON")
    assert results[3]["error"] == '"text" must be a string'


@pytest.mark.django_db
def test_an_unknown_practice_is_a_clear_error(practice):
    with pytest.raises(CommandError, match="no practice with slug 'nowhere'"):
        call_command("triage", "--practice", "nowhere", stdin=io.StringIO("x"))


def test_the_real_command_streams_jsonl_and_fails_on_a_bad_line(tmp_path):
    env = base_env(tmp_path)
    assert clinicline("migrate", "--no-input", env=env).returncode == 0
    made = clinicline("shell", "-c", "from clinicline.practices.models import Practice; "
                      "Practice.objects.create(slug='demo', name='Demo', "
                      "time_zone='America/New_York', callback_number='+16175550100')",
                      env=env)
    assert made.returncode == 0, made.stderr
    lines = "\n".join([json.dumps({"id": "u1", "text": URGENT_CLINICAL}), "oops",
                       json.dumps({"id": "r1", "text": "Charged twice for the October visit"})])
    result = subprocess.run([sys.executable, "-m", "clinicline", "triage", "--practice",
                             "demo", "--jsonl"], input=lines, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT_S, check=False)
    assert result.returncode == 1
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"id": "u1", "priority": "emergency",
         "rules": ["breathing", "post-op-warning-signs", "dvt"], "because": BECAUSE,
         "protocol_version": 1},
        {"id": None, "line": 2, "error": "not JSON (Expecting value at column 1)"},
        {"id": "r1", "priority": "routine", "rules": [], "because": [], "protocol_version": 1}]
    assert "1 line(s) could not be triaged" in result.stderr
    unknown = clinicline("triage", "--practice", "nowhere", env=env)
    assert unknown.returncode == 1
    assert "no practice with slug 'nowhere'" in unknown.stderr
