import datetime as dt
import uuid
from typing import Any

from django.db import models

from clinicline.patients import normalize
from clinicline.practices.models import PracticeOwned
from clinicline.vault.blind import blind_index
from clinicline.vault.fields import EncryptedJSONField, EncryptedTextField, SealedMember

# Blind-index kinds; also the names used for lookups.
BY_NAME_DOB = "name+dob"
BY_MRN = "mrn"
BY_PHONE = "phone"
BY_EMAIL = "email"


class Patient(PracticeOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Name, date of birth, MRN and address are read together, so they are sealed together:
    # one decryption a row.
    identity = EncryptedJSONField[dict[str, Any]](default=dict, editable=False)
    given_name = SealedMember[str]("identity")
    family_name = SealedMember[str]("identity")
    date_of_birth = SealedMember[dt.date | None]("identity", date=True, default=None)
    mrn = SealedMember[str]("identity")
    address = SealedMember[dict[str, str] | None]("identity", default=None)  # street, city…
    restricted = models.BooleanField(
        default=False, help_text="only clinical roles open it without break-glass")
    name_dob_index = models.CharField(max_length=64, db_index=True, editable=False)
    mrn_index = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    PHI_FIELDS = ("given_name", "family_name", "date_of_birth", "mrn", "address")

    def __str__(self) -> str:
        return f"patient {self.pk}"  # never the name: __str__ ends up in logs

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def refresh_indexes(self) -> None:
        if self.date_of_birth is None:
            raise ValueError("a patient is found by name and date of birth: give both")
        key = normalize.name_dob_key(self.given_name, self.family_name, self.date_of_birth)
        self.name_dob_index = blind_index(self.practice_id, BY_NAME_DOB, key)
        self.mrn_index = (blind_index(self.practice_id, BY_MRN, normalize.mrn_key(self.mrn))
                          if self.mrn else "")


class ContactPoint(PracticeOwned):
    class Kind(models.TextChoices):
        PHONE = "phone"
        EMAIL = "email"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(max_length=16, blank=True, help_text="mobile, home, work…")
    value = EncryptedTextField()
    value_index = models.CharField(max_length=64, db_index=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} contact {self.pk}"

    @property
    def display_value(self) -> str:
        """A phone number as people write it ("(617) 555-0142"), an address as it is."""
        return normalize.phone_display(self.value) if self.kind == self.Kind.PHONE else self.value

    def refresh_indexes(self) -> None:
        kind, key = ((BY_PHONE, normalize.phone_e164(self.value)) if self.kind == self.Kind.PHONE
                     else (BY_EMAIL, normalize.email_key(self.value)))
        self.value_index = blind_index(self.practice_id, kind, key)
