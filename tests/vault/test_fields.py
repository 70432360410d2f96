"""Encrypted fields: values round-trip, the database holds only ciphertext, and a token opens
only in the place it was sealed for."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django import forms
from django.core.exceptions import FieldError
from django.db import transaction

from clinicline.patients import service as patients
from clinicline.patients.models import ContactPoint, Patient
from clinicline.vault.fields import EncryptedDateField, EncryptedJSONField, Sealed
from clinicline.vault.keyring import VaultError, keyring
from tests.conftest import make_patient
from tests.vault.conftest import raw_column

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "12 Rue Saint-Denis", "city": "Montréal", "unit": None, "floors": [2, 3]}


@pytest.fixture
def walter(practice) -> Patient:
    return make_patient(practice, mrn="RFM-100142", address=ADDRESS)


def test_text_date_and_json_values_come_back_as_they_went_in(walter):
    loaded = Patient.objects.get(pk=walter.pk)
    assert (loaded.given_name, loaded.family_name, loaded.mrn) == ("Walter", "Okafor",
                                                                    "RFM-100142")
    assert loaded.date_of_birth == dt.date(1958, 4, 2)
    assert isinstance(loaded.date_of_birth, dt.date)
    assert loaded.address == ADDRESS
    phone = ContactPoint.objects.get(patient=walter)
    assert phone.value == "+16175550142"


def test_an_empty_optional_value_stays_empty(practice):
    patient = make_patient(practice, phone="")
    loaded = Patient.objects.get(pk=patient.pk)
    assert loaded.address is None and loaded.mrn == ""
    assert raw_column(Patient, patient.pk, "identity").startswith("e1.")


def test_a_changed_value_is_sealed_again_on_save(walter):
    before = raw_column(Patient, walter.pk, "identity")
    patients.update_patient(Patient.objects.get(pk=walter.pk), family_name="Okafor-Reyes")
    after = raw_column(Patient, walter.pk, "identity")
    assert after != before and "Okafor" not in after
    loaded = Patient.objects.get(pk=walter.pk)
    assert (loaded.given_name, loaded.family_name) == ("Walter", "Okafor-Reyes")


def test_the_columns_hold_ciphertext_only(walter):
    raw = raw_column(Patient, walter.pk, "identity")
    assert raw.startswith("e1.1.")
    for plain in ["Walter", "Okafor", "1958-04-02", "RFM-100142", "Montréal", "given_name"]:
        assert plain not in raw and plain.casefold() not in raw.casefold(), plain
    phone = ContactPoint.objects.get(patient=walter)
    raw = raw_column(ContactPoint, phone.pk, "value")
    assert raw.startswith("e1.") and "5550142" not in raw


def test_the_same_value_seals_differently_each_time(practice):
    # A fresh nonce per seal: equal names must not show up as equal ciphertexts.
    first = make_patient(practice, phone="")
    second = make_patient(practice, phone="")
    assert raw_column(Patient, first.pk, "identity") != raw_column(Patient, second.pk, "identity")


def test_a_value_read_only_later_is_opened_then(walter):
    deferred = Patient.objects.only("id", "practice_id").get(pk=walter.pk)
    assert deferred.family_name == "Okafor"
    assert deferred.date_of_birth == dt.date(1958, 4, 2)


def copy_token(model, source_pk, source_column, target_pk, target_field) -> None:
    token = raw_column(model[0], source_pk, source_column)
    model[1]._base_manager.filter(pk=target_pk).update(**{target_field: Sealed(token)})


def test_a_ciphertext_copied_to_another_row_does_not_open(practice, walter):
    other = make_patient(practice, "Gregory", "Tamm", dt.date(1966, 9, 14), "+14155552671")
    copy_token((Patient, Patient), walter.pk, "identity", other.pk, "identity")
    with pytest.raises(VaultError, match="does not open here"):
        Patient.objects.get(pk=other.pk).given_name  # noqa: B018


def test_the_associated_data_names_table_column_and_row(walter):
    # With the other tests this covers columns too: the same key and row, another column,
    # is other associated data, which AES-GCM refuses (see the table test below).
    field = Patient._meta.get_field("identity")
    assert field.aad(walter) == f"patients_patient.identity.{walter.pk}".encode()
    value_field = ContactPoint._meta.get_field("value")
    assert value_field.aad(walter) == f"patients_contactpoint.value.{walter.pk}".encode()


def test_a_ciphertext_copied_to_another_table_does_not_open(walter):
    phone = ContactPoint.objects.get(patient=walter)
    # Same primary key text on both sides would still differ by table and column.
    copy_token((Patient, ContactPoint), walter.pk, "identity", phone.pk, "value")
    with pytest.raises(VaultError):
        ContactPoint.objects.get(pk=phone.pk).value  # noqa: B018


def test_a_ciphertext_of_another_practice_does_not_open(practice, other_practice, walter):
    # Same row, same column, but sealed under the other practice's key: as if a row had
    # been moved between tenants.
    aad = Patient._meta.get_field("identity").aad(walter)
    foreign = keyring.seal(other_practice.pk, aad, b'{"given_name": "Walter"}')
    Patient.objects.filter(pk=walter.pk).update(identity=Sealed(foreign))
    with pytest.raises(VaultError):
        Patient.objects.get(pk=walter.pk).given_name  # noqa: B018


def test_a_tampered_ciphertext_does_not_open(walter):
    # One bit of the ciphertext flipped (in the bytes: a base64 character's padding bits
    # may not count).
    prefix, version, body = raw_column(Patient, walter.pk, "identity").split(".")
    blob = bytearray(base64.b64decode(body))
    blob[15] ^= 0x01
    tampered = f"{prefix}.{version}.{base64.b64encode(blob).decode()}"
    Patient.objects.filter(pk=walter.pk).update(identity=Sealed(tampered))
    with pytest.raises(VaultError, match="does not open here"):
        Patient.objects.get(pk=walter.pk).given_name  # noqa: B018


def test_something_that_is_not_a_token_does_not_open(walter):
    Patient.objects.filter(pk=walter.pk).update(identity=Sealed("RFM-100142"))
    with pytest.raises(VaultError, match="not a clinicline ciphertext"):
        Patient.objects.get(pk=walter.pk).mrn  # noqa: B018


@pytest.mark.parametrize("lookup", [
    {"value": "+16175550142"},
    {"value__in": ["+16175550142"]},
    {"value__iexact": "+16175550142"},
    {"value__icontains": "555"},
    {"value__startswith": "+1617"},
    {"value__regex": "^\\+1"},
    {"identity__contains": {"given_name": "Walter"}},
])
def test_filtering_on_an_encrypted_field_is_refused(walter, lookup):
    model = Patient if "identity" in next(iter(lookup)) else ContactPoint
    with pytest.raises(TypeError, match="encrypted"):
        list(model.objects.filter(**lookup))


def test_values_sealed_in_a_record_cannot_be_queried_at_all(walter):
    for lookup in ({"given_name": "Walter"}, {"date_of_birth__gte": dt.date(1950, 1, 1)}):
        with pytest.raises(FieldError):
            list(Patient.objects.filter(**lookup))


def test_excluding_and_bulk_updating_plaintext_are_refused(walter):
    with pytest.raises(TypeError, match="encrypted"):
        list(ContactPoint.objects.exclude(value="+16175550142"))
    # Inside its own savepoint: update() marks the surrounding transaction as failed.
    with pytest.raises(TypeError, match="encrypted"), transaction.atomic():
        ContactPoint.objects.filter(patient=walter).update(value="+16175550000")
    with pytest.raises(TypeError, match="encrypted"), transaction.atomic():
        Patient.objects.filter(pk=walter.pk).update(identity={"given_name": "Wally"})
    assert Patient.objects.get(pk=walter.pk).given_name == "Walter"


def test_a_primary_key_is_needed_before_sealing(practice):
    patient = Patient(practice=practice, given_name="Walter", family_name="Okafor",
                      date_of_birth=dt.date(1958, 4, 2))
    patient.id = None
    with pytest.raises(ValueError, match="primary key"):
        Patient._meta.get_field("identity").seal(patient, {"given_name": "Walter"})


def test_a_new_primary_key_gets_its_own_associated_data(walter):
    # The primary key's text is kept on the instance for speed; giving the instance a new
    # key (copying a row) must not reuse the old one's.
    field = Patient._meta.get_field("identity")
    loaded = Patient.objects.get(pk=walter.pk)
    assert loaded.given_name == "Walter"
    old_aad = field.aad(loaded)
    loaded.pk = None
    loaded.id = Patient._meta.pk.get_default()
    loaded._state.adding = True
    loaded.save(force_insert=True)
    assert field.aad(loaded) != old_aad
    assert Patient.objects.get(pk=loaded.pk).given_name == "Walter"
    assert Patient.objects.get(pk=walter.pk).given_name == "Walter"


def test_a_date_field_seals_the_iso_date_and_opens_a_date(walter):
    field = EncryptedDateField()  # free-standing: no model of ours declares one (yet)
    field.set_attributes_from_name("born")
    field.aad_prefix = b"test_table.born."
    token = field.seal(walter, dt.date(1958, 4, 2))
    assert "1958" not in token
    assert field.open(walter, token) == dt.date(1958, 4, 2)
    assert field.to_python("1958-04-02") == dt.date(1958, 4, 2)


def test_a_form_edits_the_value_an_encrypted_field_holds():
    assert isinstance(EncryptedDateField().formfield(), forms.DateField)
    assert isinstance(EncryptedJSONField().formfield(), forms.JSONField)
    form = forms.modelform_factory(ContactPoint, fields=["value"])()
    assert isinstance(form.fields["value"], forms.CharField)
    # A ModelForm's field_classes reach the field as form_class.
    form = forms.modelform_factory(ContactPoint, fields=["value"],
                                   field_classes={"value": forms.EmailField})()
    assert isinstance(form.fields["value"], forms.EmailField)
    assert form.fields["value"].required


def test_a_patient_without_a_date_of_birth_cannot_be_indexed(practice):
    with pytest.raises(ValueError, match="date of birth"):
        Patient(practice=practice, given_name="Zoë", family_name="Núñez").refresh_indexes()


def test_sealed_members_live_in_one_record(practice):
    patient = Patient(practice=practice, given_name="Zoë", family_name="Núñez",
                      date_of_birth=dt.date(2001, 12, 31))
    assert patient.identity == {"given_name": "Zoë", "family_name": "Núñez",
                                "date_of_birth": "2001-12-31"}
    assert patient.mrn == "" and patient.address is None  # defaults, not stored
    patient.date_of_birth = dt.date(2002, 1, 1)
    assert patient.date_of_birth == dt.date(2002, 1, 1)
    patient.refresh_indexes()
    patient.save()
    loaded = Patient.objects.get(pk=patient.pk)
    assert (loaded.given_name, loaded.date_of_birth) == ("Zoë", dt.date(2002, 1, 1))


def test_a_first_key_rolled_back_with_its_transaction_is_not_kept(practice):
    # The practice's first record creates its data key. If that transaction rolls back, the
    # key is gone: the process must not go on sealing with a cached copy of it, or what it
    # seals next could never be opened once the cache is gone (a restart).
    with pytest.raises(RuntimeError), transaction.atomic():
        make_patient(practice, phone="")
        raise RuntimeError("the request failed after the first seal")
    walter = make_patient(practice, phone="")
    keyring.clear()  # what a restart does
    assert Patient.objects.get(pk=walter.pk).given_name == "Walter"
