"""The console names the digit shortcuts it really has: one per call type, nine at most."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from django.utils.html import strip_tags

from clinicline.intake.service import import_call_types
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

CONSOLE = "/p/riverside/console/"


def heading(client) -> str:
    """The call-type list's heading, as words."""
    page = client.get(CONSOLE).content.decode()
    found = re.search(r'<h2 id="types-heading">(.*?)</h2>', page, re.S).group(1)
    return " ".join(html.unescape(strip_tags(found)).split())


def call_types(count: int) -> str:
    return yaml.safe_dump({"call_types": [
        {"slug": f"type-{n}", "label": f"Type {n}", "clinical": n == 1, "general": n == 1,
         "fields": [{"name": "patient_name", "label": "Patient name", "kind": "text"}]}
        for n in range(1, count + 1)]})


def test_the_shipped_eight_call_types_are_keys_one_to_eight(practice, agent):
    assert heading(signed_in(agent)) == "Call type press 1–8"


@pytest.mark.parametrize("count,says", [(12, "Call type press 1–9"), (1, "Call type press 1")])
def test_a_practice_with_more_or_fewer_types_sees_its_own_range(practice, agent, count, says):
    import_call_types(practice, call_types(count))
    assert heading(signed_in(agent)) == says
