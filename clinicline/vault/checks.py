"""System checks: a model with encrypted fields must be able to seal before insert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.core import checks
from django.db import models

from clinicline.vault.fields import encrypted_fields


@checks.register(checks.Tags.models)
def check_encrypted_models(app_configs: Sequence[AppConfig] | None = None,
                           **kwargs: Any) -> list[checks.CheckMessage]:
    found: Iterable[type[models.Model]] = (
        apps.get_models() if app_configs is None
        else (model for config in app_configs for model in config.get_models()))
    return [error for model in found for error in check_model(model)]


def check_model(model: type[models.Model]) -> list[checks.CheckMessage]:
    """The problems that would stop this model's encrypted fields from working."""
    fields = encrypted_fields(model)
    if not fields:
        return []
    errors: list[checks.CheckMessage] = []
    if not model._meta.pk.has_default():
        # The primary key is part of each token's associated data, so it must exist
        # before the INSERT that stores the token.
        errors.append(checks.Error(
            f"{model.__name__} has encrypted fields but its primary key has no default",
            hint="use a UUIDField(primary_key=True, default=uuid.uuid4)",
            obj=model, id="vault.E001"))
    attnames = {f.attname for f in model._meta.concrete_fields}
    for field in fields:
        if field.unique or field.db_index:
            errors.append(checks.Error(
                f"{model.__name__}.{field.name} is encrypted and cannot be indexed",
                hint="add a blind index column instead", obj=field, id="vault.E002"))
        if field.practice_attr not in attnames and field.practice_attr != "pk":
            errors.append(checks.Error(
                f"{model.__name__}.{field.name} has no {field.practice_attr} to key it",
                hint="encrypted rows belong to a practice: add its foreign key, or name "
                     "the attribute that holds its id with practice_attr=",
                obj=field, id="vault.E003"))
    return errors
