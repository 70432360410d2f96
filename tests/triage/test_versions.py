"""A practice's protocol is versioned data: the default becomes version 1 on first use,
each import adds the next version (audited), the newest is in force, none is lost."""

from __future__ import annotations

import pytest

from clinicline.audit.models import Action, AuditEvent
from clinicline.triage import service, yamlio
from clinicline.triage.models import Protocol
from clinicline.triage.service import default_document, default_source, protocol_for
from tests.triage.test_protocol_file import SMALL

pytestmark = pytest.mark.django_db


def test_first_use_creates_version_1_from_the_default(practice):
    protocol = protocol_for(practice)
    assert (protocol.version, protocol.created_by) == (1, None)
    assert protocol.document == default_document()
    assert protocol.as_yaml() == default_source()
    assert protocol_for(practice) == protocol
    assert Protocol.objects.count() == 1


def test_an_import_adds_the_next_version_and_keeps_the_old(practice, practice_admin):
    first = protocol_for(practice)
    second = service.import_protocol(practice, SMALL, by=practice_admin)
    assert second.version == 2 and second.created_by == practice_admin
    assert protocol_for(practice) == second
    assert service.version_of(practice, 1) == first
    assert second.spec.version == 2
    assert [q.id for q in second.spec.questions] == ["breathing", "surgery", "calf"]


def test_an_import_is_audited_as_a_settings_change(practice, practice_admin):
    protocol = service.import_protocol(practice, SMALL, by=practice_admin)
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE)
    assert (event.practice_id, event.actor_id) == (practice.pk, practice_admin.pk)
    assert event.reason == "triage protocol v1"  # no default was in use yet
    assert (event.object_type, event.object_id) == ("triage.protocol", str(protocol.pk))


def test_a_refused_import_saves_nothing(practice, practice_admin):
    protocol_for(practice)
    with pytest.raises(yamlio.ProtocolError):
        service.import_protocol(practice, SMALL.replace("{question: calf}", "{question: x}"),
                                by=practice_admin)
    assert Protocol.objects.count() == 1
    assert not AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).exists()


def test_each_practice_has_its_own_versions(practice, other_practice, practice_admin):
    service.import_protocol(practice, SMALL, by=practice_admin)
    service.import_protocol(practice, SMALL, by=practice_admin)
    assert protocol_for(practice).version == 2
    assert protocol_for(other_practice).version == 1
    assert protocol_for(other_practice).document == default_document()


def test_decisions_name_the_version_in_force(practice, practice_admin):
    assert service.triage(practice, "clinical", {}, ["he can't breathe"]).protocol_version == 1
    service.import_protocol(practice, SMALL, by=practice_admin)
    decision = service.triage(practice, "clinical", {"calf": True})
    assert (decision.priority, decision.rules, decision.protocol_version) == (
        "urgent", ("dvt",), 2)


def test_a_version_stored_without_its_file_exports_its_document(practice):
    document = yamlio.load(SMALL).data
    protocol = Protocol.objects.create(practice=practice, version=7, document=document)
    assert yamlio.load(protocol.as_yaml()).data == document
