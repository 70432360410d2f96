"""Blind indexes: an agent finds Walter by phone, by name and birth date, or by MRN, however
the caller types them, and one practice's index says nothing about another's."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline.patients import service as patients
from clinicline.patients.models import BY_NAME_DOB, BY_PHONE, ContactPoint, Patient
from clinicline.vault.blind import blind_index
from clinicline.vault.models import DataKey
from tests.conftest import make_patient
from tests.vault.conftest import raw_column

pytestmark = pytest.mark.django_db

DOB = dt.date(1958, 4, 2)


@pytest.fixture
def walter(practice) -> Patient:
    return make_patient(practice, mrn="RFM-100142")


@pytest.mark.parametrize("typed", ["+16175550142", "(617) 555-0142", "617.555.0142",
                                   "617 555 0142", "1-617-555-0142", "+1 617 555 0142"])
def test_a_caller_is_found_by_phone_however_it_is_written(practice, walter, typed):
    assert patients.find_by_phone(practice, typed) == [walter]


def test_a_different_number_finds_nobody(practice, walter):
    assert patients.find_by_phone(practice, "(617) 555-0143") == []


@pytest.mark.parametrize(("given", "family"), [("Walter", "Okafor"), ("WALTER", "okafor"),
                                               ("  walter ", "Okafor"), ("Wálter", "Ókafor")])
def test_name_and_birth_date_ignore_case_accents_and_spacing(practice, walter, given, family):
    assert patients.find_by_name_dob(practice, given, family, DOB) == [walter]


def test_an_accented_name_is_found_without_its_accents(practice):
    jose = make_patient(practice, "José", "Núñez O'Brien", dt.date(1971, 11, 19), "")
    assert patients.find_by_name_dob(practice, "jose", "NUNEZ OBRIEN",
                                     dt.date(1971, 11, 19)) == [jose]


def test_the_wrong_birth_date_finds_nobody(practice, walter):
    assert patients.find_by_name_dob(practice, "Walter", "Okafor", dt.date(1958, 2, 4)) == []


@pytest.mark.parametrize("typed", ["RFM-100142", "rfm-100142", "RFM 100142", "rfm100142"])
def test_an_mrn_is_found_however_it_is_written(practice, walter, typed):
    assert patients.find_by_mrn(practice, typed) == [walter]


def test_the_index_columns_hold_no_plaintext(walter):
    for column in ("name_dob_index", "mrn_index"):
        raw = raw_column(Patient, walter.pk, column)
        assert len(raw) == 64 and int(raw, 16) >= 0  # an HMAC-SHA256, in hex
        assert "walter" not in raw.casefold() and "100142" not in raw
    phone = ContactPoint.objects.get(patient=walter)
    assert "5550142" not in raw_column(ContactPoint, phone.pk, "value_index")


def test_index_keys_are_per_practice(practice, other_practice, walter):
    # The same patient registered at a second practice: equal values index differently,
    # so one practice's index cannot be matched against another's.
    twin = make_patient(other_practice, mrn="RFM-100142")
    assert walter.name_dob_index != twin.name_dob_index
    assert walter.mrn_index != twin.mrn_index
    assert ContactPoint.objects.get(patient=walter).value_index != \
        ContactPoint.objects.get(patient=twin).value_index
    assert blind_index(practice.pk, BY_PHONE, "+16175550142") != \
        blind_index(other_practice.pk, BY_PHONE, "+16175550142")
    # Each practice finds only its own patient.
    assert patients.find_by_name_dob(practice, "Walter", "Okafor", DOB) == [walter]
    assert patients.find_by_name_dob(other_practice, "Walter", "Okafor", DOB) == [twin]
    assert patients.find_by_phone(other_practice, "(617) 555-0142") == [twin]
    assert patients.find_by_mrn(other_practice, "RFM-100142") == [twin]


def test_the_index_key_is_not_the_data_key(practice, walter):
    keys = DataKey.objects.filter(practice=practice)
    assert sorted(keys.values_list("purpose", flat=True)) == ["data", "index"]
    assert len(set(keys.values_list("wrapped", flat=True))) == 2


def test_kinds_of_value_do_not_share_index_values(practice):
    # A phone number typed into the MRN box must not match anyone's phone.
    assert blind_index(practice.pk, BY_PHONE, "+16175550142") != \
        blind_index(practice.pk, BY_NAME_DOB, "+16175550142")
