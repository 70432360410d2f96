"""The message page reads as the call was taken: fields in the call type's order and triage
answers in the protocol's, both of the versions the message was taken under; times in the
practice's zone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
import yaml
from django.urls import reverse

from clinicline.inbox.models import Message
from clinicline.intake.service import call_types_for, import_call_types, take_message
from clinicline.intake.spec import to_document
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

REFILL = {"days_left": 2, "pharmacy": "Main St Pharmacy", "callback_number": "+16175550142",
          "medication": "lisinopril 10 mg", "date_of_birth": dt.date(1958, 4, 2),
          "patient_name": "Walter Okafor"}  # as a form might hand them over: any order
REFILL_ORDER = ["Patient name", "Date of birth", "Medication and dose", "Pharmacy",
                "Callback number", "Days of medicine left"]
# Shuffled; the protocol asks breathing, chest pain, ..., critical medicine, runs out.
ANSWERS = {"runs_out": False, "critical_medicine": False, "chest_pain": False,
           "breathing": False}
QUESTION_ORDER = ["trouble breathing", "chest pain", "insulin", "run out"]


def refill(practice, **sealed) -> Message:
    return take_message(practice, call_types_for(practice).get("refill"), REFILL,
                        answers=ANSWERS, **sealed)


def shown(nurse, message: Message) -> str:
    response = signed_in(nurse).get(reverse("inbox:message", kwargs={
        "practice": message.practice.slug, "message_id": message.pk}))
    assert response.status_code == 200
    return response.content.decode()


def in_order(page: str, words: list[str]) -> bool:
    lowered = page.lower()
    places = [lowered.find(word.lower()) for word in words]
    return -1 not in places and places == sorted(places)


def test_fields_follow_the_call_type_and_answers_the_protocol(practice, nurse):
    page = shown(nurse, refill(practice))
    assert in_order(page, [f"<dt>{label}</dt>" for label in REFILL_ORDER])
    triage = page[page.index("<h2>Triage</h2>"):]
    answers = triage[triage.index('<ul class="plain">'):triage.index("</ul>")]
    assert in_order(answers, QUESTION_ORDER)


def test_a_message_keeps_the_order_of_the_version_it_was_taken_under(practice, nurse):
    before = refill(practice)
    types = list(call_types_for(practice).call_types)
    document = to_document(types)
    for entry in document["call_types"]:
        if entry["slug"] == "refill":
            entry["fields"].reverse()
    import_call_types(practice, yaml.safe_dump(document))
    after = refill(practice)
    assert in_order(shown(nurse, before), [f"<dt>{label}</dt>" for label in REFILL_ORDER])
    assert in_order(shown(nurse, after), [f"<dt>{label}</dt>" for label in REFILL_ORDER[::-1]])


def test_times_are_in_the_practice_zone_and_read_like_a_clock(practice, nurse):
    texts = [{"at": "2026-12-01T07:14:00+00:00", "from": "caller", "body": "Need my refill"}]
    with time_machine.travel(dt.datetime(2026, 12, 1, 7, 14, tzinfo=dt.UTC), tick=False):
        page = shown(nurse, refill(practice, conversation=texts))
    assert "Tue 1 Dec, 02:14 EST · caller" in page          # the conversation's text
    assert "<dt>Received</dt><dd>Tue 1 Dec, 02:14 EST" in page
    assert "2026-12-01T07:14" not in page
