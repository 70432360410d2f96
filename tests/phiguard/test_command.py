"""``clinicline phi-check``: a verdict for standard input, or one per JSON line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicline.practices.models import Provider


def run(monkeypatch, stdin: str, *args: str) -> tuple[int, list[dict]]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("phi_check", *args, stdout=out)
    return exited.value.code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_command_by_its_dashed_name_reads_stdin_and_exits_by_verdict():
    # A real process, as a script would run it; no database is needed without a practice.
    def phi_check(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "clinicline", "phi-check"], input=text,
                              capture_output=True, text=True, check=False, timeout=60)

    blocked = phi_check("Walter, your A1C is back.")
    assert blocked.returncode == 1
    assert json.loads(blocked.stdout) == {"verdict": "block", "findings": [
        {"start": 0, "end": 6, "type": "person_name", "category": "identifier"},
        {"start": 13, "end": 16, "type": "test", "category": "clinical"}]}
    allowed = phi_check("Please call us during office hours.")
    assert allowed.returncode == 0
    assert json.loads(allowed.stdout) == {"verdict": "allow", "findings": []}


@pytest.mark.django_db
def test_json_lines_with_a_recipient_and_a_practice(monkeypatch, practice):
    Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    lines = [
        {"id": "a", "text": "Dr. Osei asks you to call 617-555-0100.", "practice": practice.slug},
        {"id": "b", "text": "Dr. Osei asks you to call 617-555-0100."},
        {"id": "c", "text": "Ref rfm 100 142", "recipient": {
            "name": "Walter Okafor", "date_of_birth": "1958-04-02", "mrn": "RFM-100142",
            "address": {"street": "14 Elm Street"}, "phone": "+16175550142"}},
    ]
    code, out = run(monkeypatch, "\n".join(json.dumps(x) for x in lines) + "\n", "--jsonl")
    assert code == 1
    assert [(row["id"], row["verdict"]) for row in out] == \
        [("a", "allow"), ("b", "block"), ("c", "block")]
    assert out[2]["findings"] == [{"start": 4, "end": 15, "type": "mrn",
                                   "category": "identifier"}]


@pytest.mark.django_db
def test_lines_it_cannot_read_are_answered_with_why_and_exit_2(monkeypatch, practice):
    lines = ['{"id": 1, "text": "Please call us."}', "not json", '["a list"]',
             '{"id": 4, "text": 5}', '{"id": 5, "text": "x", "practice": "nowhere"}',
             '{"id": 6, "text": "x", "recipient": {"date_of_birth": "1958-13-01"}}',
             '{"id": 7, "text": "x", "recipient": {"ssn": "123"}}']
    code, out = run(monkeypatch, "\n".join(lines) + "\n", "--jsonl")
    assert code == 2
    assert out[0] == {"id": 1, "verdict": "allow", "findings": []}
    assert [(row["id"], row["line"]) for row in out[1:]] == \
        [(None, 2), (None, 3), (4, 4), (5, 5), (6, 6), (7, 7)]
    assert [row["error"] for row in out[1:]] == [
        "not JSON", "a line is a JSON object", '"text" must be a string',
        "no practice 'nowhere'", '"date_of_birth" is a date, YYYY-MM-DD',
        '"recipient" is an object of name, date_of_birth, mrn, address, phone']


@pytest.mark.django_db
def test_an_unknown_practice_without_jsonl_is_an_error_not_a_traceback(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("hello"))
    with pytest.raises(CommandError, match="no practice 'nowhere'"):
        call_command("phi_check", "--practice", "nowhere")
