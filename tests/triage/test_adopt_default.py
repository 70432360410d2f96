"""A practice keeps its own protocol, and may adopt a newer shipped default after seeing
what it would add, change and remove."""

from __future__ import annotations

import copy

import pytest

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.triage import service, yamlio
from clinicline.triage.models import Protocol
from tests.conftest import make_member, signed_in
from tests.triage.test_pages import PAGE, upload

pytestmark = pytest.mark.django_db


def older_default() -> tuple[str, str, str]:
    """The shipped default as an older release might have had it: one rule fewer, one rule
    worded differently, and a rule of the practice's own."""
    document = copy.deepcopy(service.default_document())
    rules = document["rules"]
    dropped = rules.pop(0)
    rules[0] = {**rules[0], "then": {**rules[0]["then"], "say": "Older words."}}
    rules.append({"id": "our-own-rule", "when": {"question": document["questions"][0]["id"]},
                  "then": {"priority": "urgent", "actions": ["escalate-now"],
                           "say": "Our own words."}})
    return yamlio.dump(document), dropped["id"], rules[0]["id"]


def test_the_changes_name_rules_added_changed_and_removed():
    text, dropped, reworded = older_default()
    found = service.changes(yamlio.load(text).data, service.default_document())
    assert found.added["rules"] == [dropped]
    assert found.changed["rules"] == [reworded]
    assert found.removed["rules"] == ["our-own-rule"]
    assert not service.changes(service.default_document(), service.default_document())


def test_the_admin_sees_the_changes_then_adopts_the_default_audited(practice, practice_admin):
    client = signed_in(practice_admin)
    text, dropped, reworded = older_default()
    assert upload(client, text).status_code == 302
    assert "differs from the version in force" in client.get(PAGE).content.decode()

    page = client.get(PAGE + "default/").content.decode()
    assert f"<code>{dropped}</code>" in page and f"<code>{reworded}</code>" in page
    assert "<code>our-own-rule</code>" in page and "Adopt the shipped default as version 2" in page

    assert client.post(PAGE + "default/").status_code == 302
    current = service.protocol_for(practice)
    assert current.version == 2 and current.source == service.default_source()
    assert not service.default_changes(practice)
    assert "differs from the version in force" not in client.get(PAGE).content.decode()
    assert AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE,
                                     reason="triage protocol v2").exists()
    assert "nothing to adopt" in client.get(PAGE + "default/").content.decode()


@pytest.mark.parametrize("role", [Role.NURSE, Role.AGENT, Role.PRACTICE_MANAGER])
def test_only_the_admin_sees_or_adopts_the_default(practice, role):
    client = signed_in(make_member(practice, role))
    assert client.get(PAGE + "default/").status_code == 404
    assert client.post(PAGE + "default/").status_code == 404
    assert Protocol.objects.count() <= 1
