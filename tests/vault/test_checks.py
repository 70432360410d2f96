"""System checks catch an encrypted model that could not work, before it is migrated.

The throwaway models live in an isolated app registry, so they never reach migrations or
the rotation's model discovery.
"""

# ruff: noqa: DJ008 (throwaway models, never printed)
from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.core import checks
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from clinicline.vault.checks import check_encrypted_models, check_model
from clinicline.vault.fields import EncryptedDateField, EncryptedTextField


def ids(errors: list[checks.CheckMessage]) -> list[str]:
    return [e.id for e in errors]


def test_the_installed_models_pass():
    assert check_encrypted_models() == []
    assert check_encrypted_models(app_configs=[apps.get_app_config("patients")]) == []
    call_command("check", "--fail-level", "ERROR")


@isolate_apps("clinicline.patients")
def test_a_well_formed_encrypted_model_passes():
    class Note(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        practice_id = models.BigIntegerField()
        body = EncryptedTextField()

        class Meta:
            app_label = "patients"

    assert check_model(Note) == []


@isolate_apps("clinicline.patients")
def test_a_primary_key_without_a_default_is_an_error():
    class Note(models.Model):  # an auto-increment id only exists after the INSERT
        practice_id = models.BigIntegerField()
        body = EncryptedTextField()

        class Meta:
            app_label = "patients"

    errors = check_model(Note)
    assert ids(errors) == ["vault.E001"]
    assert "primary key has no default" in errors[0].msg


@pytest.mark.parametrize("options", [{"db_index": True}, {"unique": True}])
@isolate_apps("clinicline.patients")
def test_an_indexed_encrypted_field_is_an_error(options):
    class Note(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        practice_id = models.BigIntegerField()
        born = EncryptedDateField(**options)

        class Meta:
            app_label = "patients"

    errors = check_model(Note)
    assert ids(errors) == ["vault.E002"]
    assert errors[0].obj is Note._meta.get_field("born")
    assert "blind index" in errors[0].hint


@isolate_apps("clinicline.patients")
def test_an_encrypted_field_without_a_practice_is_an_error():
    class Note(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        clinic_id = models.BigIntegerField()
        body = EncryptedTextField()
        summary = EncryptedTextField(practice_attr="clinic_id")  # names what it has

        class Meta:
            app_label = "patients"

    errors = check_model(Note)
    assert ids(errors) == ["vault.E003"]
    assert errors[0].obj is Note._meta.get_field("body")
    assert "has no practice_id" in errors[0].msg


@isolate_apps("clinicline.patients")
def test_a_model_without_encrypted_fields_is_not_checked():
    class Plain(models.Model):
        name = models.TextField(db_index=True)

        class Meta:
            app_label = "patients"

    assert check_model(Plain) == []
