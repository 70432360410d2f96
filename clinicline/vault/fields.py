"""Encrypted model fields.

The plaintext lives only on the model instance. On save the field seals it under the row's
practice data key, with associated data ``<table>.<column>.<primary key>`` so a ciphertext
copied to another row, column or table no longer opens. Values load sealed and are opened
on first access. Encrypted columns cannot be filtered on: use a blind index.

A model with encrypted fields needs a primary key known before insert (a UUID default) and
a ``practice_id`` (or names another attribute with ``Meta``-free ``practice_attr``).

Reading is the hot path (a list of patients opens five tokens a row), so the descriptor and
``open`` avoid repeated work: the ``<table>.<column>.`` part of the associated data is built
once per field, the primary key's text once per instance.

Each field is typed by what it holds, not by the text column underneath: a model's
``EncryptedDateField`` reads as a ``datetime.date``. ``EncryptedJSONField[list[str]]`` says
which JSON value a column holds (an object, ``dict[str, Any]``, when left out), and
``SealedMember[str]`` the type of one value kept inside such a record. (Subscripting a field
class at run time needs django-stubs-ext's monkeypatch, which settings applies.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, overload

from django import forms
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from typing_extensions import TypeVar  # with default=, which typing has from 3.13

from clinicline.vault.keyring import keyring

_ST = TypeVar("_ST")  # what may be assigned to the attribute
_GT = TypeVar("_GT")  # what reading the attribute gives
_J = TypeVar("_J", default=dict[str, Any])  # what every JSON column held when this was written
_T = TypeVar("_T", default=Any)  # a member left unparameterized reads as Any


class Sealed(str):
    """A ciphertext token, as stored in the database."""

    __slots__ = ()


# Where an instance keeps (its primary key, that key as AAD bytes) for its other fields.
_PK_BYTES = "_vault_pk_bytes"
# Lookups that pass their value through get_prep_value, which only lets a Sealed token
# through. The others (contains, iexact, regex, ...) would silently compare ciphertext.
ALLOWED_LOOKUPS = frozenset({"exact", "in", "isnull"})


def _pk_bytes(instance: models.Model) -> bytes:
    """The row's primary key as AAD text, kept on the instance for its other encrypted
    fields (str() of a UUID costs as much as the rest of opening a token)."""
    data = instance.__dict__
    pk = data.get(instance._meta.pk.attname)
    if pk is None:
        pk = instance.pk  # a child model's parent pointer, or a deferred key
        if pk is None:
            raise ValueError(f"{type(instance).__name__} needs its primary key before sealing")
    cached = data.get(_PK_BYTES)
    if cached is None or cached[0] is not pk:  # identity: a new key object means new bytes
        cached = data[_PK_BYTES] = (pk, str(pk).encode())
    return cached[1]


class EncryptedAttribute(DeferredAttribute):
    """Opens the sealed value on first access and keeps the plaintext on the instance.

    A data descriptor (it has ``__set__``): Django's own DeferredAttribute is not, so the
    instance ``__dict__`` would shadow it and hand out the ciphertext.
    """

    field: EncryptedField[Any, Any]

    def __init__(self, field: EncryptedField[Any, Any]) -> None:
        super().__init__(field)
        self.attname = field.attname  # read on every access: spare the field lookup

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.attname] = value

    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        try:
            value = data[self.attname]
        except KeyError:  # deferred (only() / defer()): Django loads it
            value = super().__get__(instance, cls)
        if value.__class__ is Sealed:
            value = data[self.attname] = self.field.open(instance, value)
        return value


class EncryptedField(models.TextField[_ST, _GT]):
    # django-stubs fills the Any inside a parameter (dict[str, Any]) with these; TextField's
    # own (str) would turn a JSON object into dict[str, str]. Annotations only.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any
    db_index: bool  # Field.__init__ sets it; django-stubs leaves it out
    descriptor_class = EncryptedAttribute
    # A form edits the value the column holds, not its ciphertext.
    form_class: type[forms.Field] = forms.CharField

    def __init__(self, *args: Any, practice_attr: str = "practice_id", **kwargs: Any) -> None:
        self.practice_attr = practice_attr
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.practice_attr != "practice_id":
            kwargs["practice_attr"] = self.practice_attr
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str,
                            private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        # ``<table>.<column>.``, fixed for the field's life; reading is the hot path. (An
        # abstract parent's field is copied to each concrete model and contributed again.)
        self.aad_prefix = f"{cls._meta.db_table}.{self.column}.".encode()

    # --- the value's own bytes (subclasses) -------------------------------------------
    def encode(self, value: Any) -> bytes:
        return str(value).encode()

    def decode(self, data: bytes) -> Any:
        return data.decode()

    # --- sealing ----------------------------------------------------------------------
    def aad_for_pk(self, pk: Any) -> bytes:
        """The associated data for this column of the row with primary key ``pk``."""
        return self.aad_prefix + str(pk).encode()

    def aad(self, instance: models.Model) -> bytes:
        """``<table>.<column>.<pk>``: a token opens only in the place it was sealed for."""
        return self.aad_prefix + _pk_bytes(instance)

    def practice_of(self, instance: models.Model) -> int:
        practice_id = instance.__dict__.get(self.practice_attr)
        return getattr(instance, self.practice_attr) if practice_id is None else practice_id

    def seal(self, instance: models.Model, value: Any) -> Sealed:
        return Sealed(keyring.seal(self.practice_of(instance), self.aad(instance),
                                   self.encode(value)))

    def open(self, instance: models.Model, token: str) -> Any:
        # practice_of() and aad() inlined: this runs for every field of every row read.
        practice_id = instance.__dict__.get(self.practice_attr)
        if practice_id is None:
            practice_id = getattr(instance, self.practice_attr)
        return self.decode(keyring.open(practice_id, self.aad_prefix + _pk_bytes(instance),
                                        token))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        return self.seal(model_instance, value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Sealed | None:
        return None if value is None else Sealed(value)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or isinstance(value, Sealed):
            return value
        raise TypeError(
            f"{self.model.__name__}.{self.name} is encrypted: it cannot be used in a query or "
            "a bulk update; look rows up by their blind index and save() them"
        )

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None,
                  **kwargs: Any) -> forms.Field:
        # Django's signature; choices_form_class has nothing to do here (no choices on
        # ciphertext), and a ModelForm's field_classes arrive as form_class.
        defaults = {"required": not self.blank, "label": self.verbose_name,
                    "help_text": self.help_text}
        return (form_class or self.form_class)(**{**defaults, **kwargs})

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            raise TypeError(
                f"{self.model.__name__}.{self.name} is encrypted: `{lookup_name}` would compare "
                "ciphertext; look rows up by their blind index instead"
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise TypeError(
            f"{self.model.__name__}.{self.name} is encrypted: `{lookup_name}` cannot apply to "
            "ciphertext; look rows up by their blind index instead"
        )


class EncryptedTextField(EncryptedField[str, str]):
    pass


class EncryptedDateField(EncryptedField[dt.date, dt.date]):
    form_class = forms.DateField

    def encode(self, value: dt.date) -> bytes:
        return value.isoformat().encode()

    def decode(self, data: bytes) -> dt.date:
        return dt.date.fromisoformat(data.decode())

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, Sealed):
            return dt.date.fromisoformat(value)
        return value


class EncryptedJSONField(EncryptedField[_J, _J]):
    form_class = forms.JSONField

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class SealedMember(property, Generic[_T]):
    """One value kept inside an encrypted JSON record of the same row.

    Reading a row's PHI is the hot path: several values sealed together cost one decryption
    a row, where a field per value costs one each (bench/vault.py measures it). A property,
    so ``Model(name=...)`` and forms work as with a field; it cannot be queried, by design.
    """

    def __init__(self, record: str, *, date: bool = False, default: Any = "") -> None:
        self.record, self.is_date, self.default = record, date, default
        super().__init__(self._get, self._set)

    if TYPE_CHECKING:
        # What the checker sees of reading and assigning; at run time property's own
        # __get__ and __set__ serve, without an extra call on the hot path.
        @overload
        def __get__(self, instance: None, owner: type | None = None, /) -> Self: ...
        @overload
        def __get__(self, instance: models.Model, owner: type | None = None, /) -> _T: ...
        def __get__(self, instance: models.Model | None,
                    owner: type | None = None, /) -> Self | _T: ...
        def __set__(self, instance: models.Model, value: _T, /) -> None: ...

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _get(self, instance: models.Model) -> Any:
        record = getattr(instance, self.record) or {}
        if self.name not in record:
            # A callable default (dict, list) makes a fresh value, as a field's would.
            return self.default() if callable(self.default) else self.default
        value = record[self.name]
        if self.is_date and value is not None:
            return dt.date.fromisoformat(value)
        return value

    def _set(self, instance: models.Model, value: Any) -> None:
        record = getattr(instance, self.record)
        if record is None:
            record = {}
            setattr(instance, self.record, record)
        record[self.name] = value.isoformat() if self.is_date and value is not None else value


def encrypted_fields(model: type[models.Model]) -> list[EncryptedField[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
