"""Call types are versioned per practice: version 1 from the defaults on first use, each
upload the next version, the newest in force, older versions kept."""

from __future__ import annotations

import json

import pytest

from clinicline.intake import service
from clinicline.intake.models import CallTypeSet
from clinicline.intake.spec import CallTypeError

pytestmark = pytest.mark.django_db

SMALL = {"call_types": [{"slug": "refill", "label": "Refill", "clinical": True,
                         "general": True, "fields": [
    {"name": "patient_name", "label": "Patient name", "kind": "text"},
    {"name": "callback_number", "label": "Callback number", "kind": "phone"},
    {"name": "urgency", "label": "Urgency", "kind": "choice", "choices": ["today", "later"]},
]}]}


def test_first_use_creates_version_1_from_the_defaults(practice):
    current = service.call_types_for(practice)
    assert current.version == 1 and current.created_by is None
    assert current.get("billing") is not None
    assert service.call_types_for(practice).pk == current.pk  # not a second copy


def test_an_import_becomes_the_version_in_force(practice, practice_admin):
    service.call_types_for(practice)
    saved = service.import_call_types(practice, json.dumps(SMALL), by=practice_admin)
    assert saved.version == 2
    current = service.call_types_for(practice)
    assert current.pk == saved.pk
    assert [t.slug for t in current.call_types] == ["refill"]
    assert current.get("refill").version == 2
    assert current.get("clinical") is None
    assert service.version_of(practice, 1).get("clinical") is not None  # kept


def test_versions_count_per_practice(practice, other_practice):
    service.import_call_types(practice, json.dumps(SMALL))
    service.import_call_types(practice, json.dumps(SMALL))
    assert service.call_types_for(practice).version == 2
    assert service.call_types_for(other_practice).version == 1
    assert CallTypeSet.objects.for_practice(other_practice).count() == 1


def test_a_refused_import_saves_nothing(practice):
    bad = {"call_types": [{"slug": "x", "fields": [{"name": "a", "kind": "colour"}]}]}
    with pytest.raises(CallTypeError):
        service.import_call_types(practice, json.dumps(bad))
    assert not CallTypeSet.objects.exists()


def test_yaml_dates_are_stored_as_text(practice):
    text = ("call_types:\n- slug: other\n  clinical: true\n  general: true\n  fields:\n"
            "  - name: message\n    help_text: 2026-01-01\n")
    saved = service.import_call_types(practice, text)
    saved.refresh_from_db()
    assert saved.get("other").fields[0].help_text == "2026-01-01"
    assert saved.get("other").fields[0].label == "Message"


@pytest.mark.parametrize("document,message", [
    ({"call_types": [{"slug": "a", "fields": [{"name": "x", "kind": "colour"}]}]},
     "unknown kind 'colour'"),
    ({"call_types": [{"slug": "a", "fields": [{"name": "x"}]},
                     {"slug": "a", "fields": [{"name": "y"}]}]}, "duplicate slug 'a'"),
    ({"call_types": [{"slug": "a", "fields": [{"name": "x"}, {"name": "x"}]}]},
     "duplicate field 'x'"),
    ({"call_types": [{"slug": "a", "fields": [{"label": "No name"}]}]},
     "missing or invalid name"),
    ({"call_types": [{"fields": [{"name": "x"}]}]}, "missing or invalid slug"),
    ({"call_types": [{"slug": "a", "fields": []}]}, "fields must be a non-empty list"),
    ({"call_types": [{"slug": "a", "fields": [{"name": "x", "kind": "choice"}]}]},
     "a choice needs a non-empty list of choices"),
    ({"call_types": [{"slug": "a", "fields": [{"name": "x", "required": "yes"}]}]},
     "required must be true or false"),
    ({"call_types": []}, "at least one call type"),
    ({"call_types": [{"slug": "a", "general": True, "fields": [{"name": "x"}]}]},
     "no call type is marked clinical: true"),
    ({"call_types": [{"slug": "a", "clinical": True, "fields": [{"name": "x"}]}]},
     "exactly one call type must be marked general: true"),
    ({"call_types": [{"slug": "a", "clinical": True, "general": True, "fields": [{"name": "x"}]},
                     {"slug": "b", "general": True, "fields": [{"name": "y"}]}]},
     "found 2"),
    ({"call_types": [{"slug": "a", "clinical": "yes", "general": True,
                      "fields": [{"name": "x"}]}]}, "clinical must be true or false"),
    ({"types": []}, "a list under call_types"),
])
def test_bad_documents_are_refused_with_a_clear_message(document, message):
    with pytest.raises(CallTypeError) as caught:
        service.parse(json.dumps(document))
    assert message in str(caught.value)


def test_malformed_yaml_and_aliases_are_refused():
    with pytest.raises(CallTypeError, match=r"line \d+: the file is not valid JSON or YAML"):
        service.parse("call_types:\n  - [unclosed\n")
    with pytest.raises(CallTypeError, match="aliases"):
        service.parse("x: &a [1]\ncall_types: *a\n")
