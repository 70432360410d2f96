"""Reminders benchmark: 10,000 appointments imported, their reminders made, and the
reminder job's decisions and outbox rows, timed end to end.

    .venv/bin/python bench/reminders.py [--appointments 10000]

Runs on a database of its own (``support.temporary_database``: a temporary SQLite file, or
a fresh database on the PostgreSQL server DATABASE_URL names, dropped at the end). The
practice has one provider and as many patients as appointments, each with a verified
mobile and a signed consent to reminders by text (made in bulk, sealed as in production;
not timed). Timed: ``import_appointments``
of every appointment (each three days ahead, so its week's reminder is due at once and its
two-day one later), then the reminder job (``reminders.send_due``, as the worker runs it)
until nothing is due, at the first moment inside quiet hours: one sending decision
(``decisions.send``: consent, quiet hours, caps, the template, the PHI guard) and one
outbox Delivery per appointment.

Before the clock starts, what the web server and the worker do at the end of their start-up
(``worker.collect_less``: the PHI guard's word lists read, what start-up made kept out of
the garbage collector's passes, its youngest generation collected less often).

Baseline, in the same run: a plain ``bulk_create`` of the same number of outbox Delivery
rows (sealed recipient and body); ratio = appointments_per_s / baseline rows per second.
Prints human lines, then one JSON line.

Target: appointments_per_s >= 1,000 on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import django
from support import temporary_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 1000.0
BASELINE_BODY = ("Riverside Family Medicine: appt Thu Dec 10 at 9:30 AM. Reply C to confirm, "
                 "R to reschedule. Call 617-555-0100. Reply STOP to opt out.")


def people(practice, count: int) -> list:
    """``count`` patients, each with a verified mobile and consent to reminders by text,
    made in bulk."""
    from django.utils import timezone

    from clinicline.patients.models import ConsentEntry, ContactPoint, Patient

    patients = []
    for n in range(count):
        patient = Patient(practice=practice, given_name=f"Pat{n}", family_name="Lee",
                          date_of_birth=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                          mrn=f"RFM-{100000 + n}")
        patient.refresh_indexes()
        patients.append(patient)
    Patient.objects.bulk_create(patients, batch_size=1000)
    now = timezone.now()
    contacts = []
    for n, patient in enumerate(patients):
        contact = ContactPoint(practice=practice, patient=patient, kind="phone",
                               label="mobile", value=f"+1617{2000000 + n:07d}", verified_at=now)
        contact.refresh_indexes()
        contacts.append(contact)
    ContactPoint.objects.bulk_create(contacts, batch_size=1000)
    signed = now - dt.timedelta(days=30)
    ConsentEntry.objects.bulk_create([
        ConsentEntry(practice=practice, patient=patient, channel="sms",
                     purpose="appointment-reminders", granted=True, source="paper-form",
                     evidence="signed form", at=signed) for patient in patients],
        batch_size=1000)
    return patients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000)
    args = parser.parse_args()
    with (tempfile.TemporaryDirectory() as tmp,
          temporary_database(Path(tmp), "reminders") as url):
        os.environ.update(DATABASE_URL=url, CLINICLINE_DATA_DIR=tmp,
                          DJANGO_SETTINGS_MODULE="clinicline.settings")
        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections
        from django.utils import timezone

        from clinicline.outbox.models import Delivery
        from clinicline.outreach import appointments, decisions, reminders
        from clinicline.outreach.appointment_models import Reminder
        from clinicline.practices.models import Practice, Provider
        from clinicline.worker import collect_less

        call_command("migrate", verbosity=0)
        database = connection.vendor
        practice = Practice.objects.create(slug="riverside", name="Riverside Family Medicine",
                                           time_zone="America/New_York",
                                           callback_number="+16175550100")
        Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
        patients = people(practice, args.appointments)
        soon = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
        rows = [appointments.AppointmentRow(
            line=n + 2, external_id=f"A-{n}", provider="Dr. Amara Osei",
            starts_at=soon + dt.timedelta(minutes=n % 600), location="Main St office",
            mrn=p.mrn) for n, p in enumerate(patients)]

        # As the web server and the worker end their start-up (the import is the web's
        # work, the job the worker's): what start-up made is kept out of the collector's
        # passes, and the PHI guard's word lists are read.
        collect_less()
        start, cpu = time.perf_counter(), time.process_time()
        result = appointments.import_appointments(practice, rows, by=None)
        imported_s = time.perf_counter() - start
        # The first moment inside quiet hours in Boston (now, in the day there), so that a run
        # at night measures sending rather than deferring.
        at = decisions.window_opens(patients[0], practice, decisions.policy_for(practice),
                                    timezone.now(), number="+16172000000")
        while reminders.send_due(now=at):  # the worker's own batches (CLAIM_BATCH)
            pass
        total_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu
        decided = Reminder.objects.exclude(status="pending").exclude(reason="late")
        decisions_n = decided.count()
        why = dict(Counter(decided.exclude(reason="").values_list("reason", flat=True)))
        deliveries = Delivery.objects.count()
        reminder_rows = Reminder.objects.count()

        start = time.perf_counter()
        Delivery.objects.bulk_create([
            Delivery(practice=practice, channel="sms", to=f"+1617{3000000 + n:07d}",
                     body=BASELINE_BODY, purpose="baseline", idempotency_key=f"base-{n}")
            for n in range(args.appointments)], batch_size=500)
        baseline_s = time.perf_counter() - start
        connections.close_all()  # before the temporary database is dropped

    rate = args.appointments / total_s
    baseline = args.appointments / baseline_s
    print(f"reminders bench on {database}: {result.created:,} appointments imported in "
          f"{imported_s:.2f} s ({reminder_rows:,} reminder rows); {decisions_n:,} decisions and "
          f"{deliveries:,} outbox rows; {total_s:.2f} s in all; not sent: {why or 'none'}")
    print(f"this process's CPU: {cpu_s:.2f} s, {args.appointments / cpu_s:,.0f} appointments "
          "per CPU second (the machine's other load aside; the database's own work not counted)")
    print(f"{rate:,.0f} appointments/s (target >= {TARGET:,.0f}); baseline bulk_create of "
          f"{args.appointments:,} deliveries: {baseline:,.0f} rows/s; ratio {rate / baseline:.3f}")
    print(json.dumps({
        "database": database, "appointments": args.appointments, "imported": result.created,
        "reminder_rows": reminder_rows, "decisions": decisions_n, "outbox_rows": deliveries,
        "import_s": round(imported_s, 3), "total_s": round(total_s, 3),
        "appointments_per_s": round(rate, 1), "cpu_s": round(cpu_s, 3),
        "appointments_per_cpu_s": round(args.appointments / cpu_s, 1),
        "baseline_rows_per_s": round(baseline, 1),
        "ratio": round(rate / baseline, 4), "target_appointments_per_s": TARGET,
    }))


if __name__ == "__main__":
    main()
