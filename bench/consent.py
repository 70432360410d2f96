"""Consent benchmark: what deriving consent from the ledger costs a sending decision.

    .venv/bin/python bench/consent.py [--patients 2000] [--entries 25] [--calls 5000]

Runs on a database of its own (a temporary SQLite file, or a fresh PostgreSQL database when
DATABASE_URL names a server). Builds a ledger of ``patients`` x ``entries`` decisions over
two years (and an SMS STOP for one number in ten), then times ``consent.state()`` for an
email (one query) and for a text to a known phone (two). Prints human lines, then one JSON
line of raw figures.

Target: at least 1,000 state() calls a second for a text on SQLite, so that checking
consent never limits a reminder run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import django
from django.core.management import call_command
from django.db import connection, connections, transaction
from support import temporary_database

TARGET = 1_000
START = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)


def build(patients: int, entries: int) -> tuple[list, list]:
    from clinicline.patients.models import (
        BY_PHONE,
        Channel,
        ConsentEntry,
        ContactPoint,
        Patient,
        Purpose,
        Source,
    )
    from clinicline.practices.models import Practice
    from clinicline.vault.blind import blind_index

    practice = Practice.objects.create(slug="bench", name="Bench", time_zone="America/New_York",
                                       callback_number="+16175550100")
    rng = random.Random(7)
    made, contacts, rows = [], [], []
    with transaction.atomic():
        for n in range(patients):
            patient = Patient(practice=practice, given_name=f"P{n}", family_name="Bench",
                              date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n))
            patient.refresh_indexes()
            made.append(patient)
        Patient.objects.bulk_create(made)
        for n, patient in enumerate(made):
            contact = ContactPoint(id=uuid.uuid4(), practice=practice, patient=patient,
                                   kind="phone", value=f"+1617{2000000 + n:07d}")
            contact.value_index = blind_index(practice.pk, BY_PHONE, contact.value)
            contacts.append(contact)
        ContactPoint.objects.bulk_create(contacts)
        purposes = [p for p in Purpose.values if p != Purpose.ALL]
        for patient, contact in zip(made, contacts, strict=True):
            for _ in range(entries):
                rows.append(ConsentEntry(
                    id=uuid.uuid4(), practice=practice, patient=patient,
                    channel=rng.choice(Channel.values), purpose=rng.choice(purposes),
                    granted=rng.random() < 0.7, source=Source.PORTAL,
                    at=START + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))))
            if rng.random() < 0.1:
                rows.append(ConsentEntry(
                    id=uuid.uuid4(), practice=practice, patient=patient, contact=contact,
                    number_index=contact.value_index, channel=Channel.SMS, purpose=Purpose.ALL,
                    granted=False, source=Source.SMS_KEYWORD, evidence="STOP",
                    at=START + dt.timedelta(days=rng.randrange(700))))
        ConsentEntry.objects.bulk_create(rows, batch_size=2_000)
    return made, contacts


def rate(calls: int, work) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(calls // 5):
            work(i)
        rounds.append((calls // 5) / (time.perf_counter() - start))
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--entries", type=int, default=25, help="entries a patient")
    parser.add_argument("--calls", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp), "consent") as url:
        os.environ.update(DATABASE_URL=url, CLINICLINE_DATA_DIR=tmp,
                          DJANGO_SETTINGS_MODULE="clinicline.settings")
        django.setup()
        call_command("migrate", verbosity=0)
        from clinicline.patients import consent
        from clinicline.patients.models import Channel, ConsentEntry, Purpose

        patients, contacts = build(args.patients, args.entries)
        total = ConsentEntry.objects.count()
        print(f"consent bench on {connection.vendor}: {total:,} entries, "
              f"{len(patients):,} patients")
        n = len(patients)
        email = rate(args.calls, lambda i: consent.state(
            patients[i % n], Channel.EMAIL, Purpose.APPOINTMENT_REMINDERS))
        sms = rate(args.calls, lambda i: consent.state(
            patients[i % n], Channel.SMS, Purpose.APPOINTMENT_REMINDERS, contact=contacts[i % n]))
        print(f"state(): {email:,.0f}/s for an email, {sms:,.0f}/s for a text "
              f"(target >= {TARGET:,}/s)")
        vendor = connection.vendor
        connections.close_all()
    print(json.dumps({"database": vendor, "entries": total, "patients": n,
                      "state_email_per_s": round(email), "state_sms_per_s": round(sms)}))


if __name__ == "__main__":
    main()
