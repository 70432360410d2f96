"""Helpers for the vault tests: raw columns, token versions, and a few practices' worth of
patients to rotate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db import connection, models

from clinicline.patients import service as patients
from clinicline.patients.models import ContactPoint, Patient
from clinicline.practices.models import Practice
from clinicline.vault.fields import EncryptedField, encrypted_fields
from clinicline.vault.keyring import keyring

GIVEN = ["Walter", "José", "Zoë", "Ngozi", "Aleksandr", "Mei", "Fatima", "Liam"]
FAMILY = ["Okafor", "Núñez", "O'Brien", "Kowalski", "Haddad", "Sørensen", "Abernathy-Lee"]


def raw_column(model: type[models.Model], pk: Any, column: str) -> Any:
    """What the database itself holds, read past the ORM and its fields."""
    quote = connection.ops.quote_name
    sql = (f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} "  # noqa: S608
           f"WHERE {quote(model._meta.pk.column)} = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        return cursor.fetchone()[0]


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedField]]]:
    found = [(m, encrypted_fields(m)) for m in apps.get_models()]
    found = [(m, fields) for m, fields in found if fields and not m._meta.proxy]
    # The vault finds models by itself; make sure the ones these tests fill are among them.
    assert {Patient, ContactPoint} <= {m for m, _ in found}
    return found


def token_versions(practice: Practice) -> set[int]:
    """The data-key versions of every token the practice's rows hold."""
    versions = set()
    for model, fields in encrypted_models():
        rows = model._base_manager.filter(practice=practice)
        for row in rows.values_list(*[f.attname for f in fields]):
            versions |= {keyring.token_version(token) for token in row if token is not None}
    return versions


def snapshot(practice: Practice) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Every encrypted value of the practice, decrypted from freshly loaded rows."""
    values = {}
    for model, fields in encrypted_models():
        for obj in model._base_manager.filter(practice=practice).order_by("pk"):
            values[(model._meta.label, str(obj.pk))] = tuple(getattr(obj, f.name)
                                                             for f in fields)
    return values


def populate(practice: Practice, n: int) -> list[Patient]:
    """N patients, each with an address and a mobile number."""
    made = []
    for i in range(n):
        patient = patients.create_patient(
            practice, given_name=GIVEN[i % len(GIVEN)], family_name=FAMILY[i % len(FAMILY)],
            date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=997 * i),
            mrn=f"{practice.slug.upper()}-{1000 + i}",
            address={"line1": f"{10 + i} Elm St", "city": "Boston", "postal_code": "02118"},
            phones=[f"+1617555{100 + i:04d}"])
        made.append(patient)
    return made
