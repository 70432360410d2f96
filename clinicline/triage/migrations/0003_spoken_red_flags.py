"""Voicemail transcription listens for the protocol's own spoken phrases (``spoken`` on a
red flag) instead of a list in the code. Stored versions that have none get the phrases
the code listened for until now, on the default protocol's red flags of the same id, so a
practice's voicemails are listened to as before."""

from django.db import migrations

SPOKEN = {
    "chest-pain": ["chest pain", "chest hurts", "chest pressure", "heart attack",
                   "no chest pain"],
    "breathing": ["cannot breathe", "can't breathe", "short of breath", "trouble breathing",
                  "not breathing", "not short of breath", "no trouble breathing"],
    "unresponsive": ["unconscious", "passed out", "collapsed"],
    "stroke": ["slurred", "stroke"],
    "severe-bleeding": ["bleeding will not stop"],
    "self-harm": ["kill myself", "suicide", "overdose"],
    "seizure": ["seizure"],
    "anaphylaxis": ["throat is swelling"],
    "allergic-reaction": ["allergic reaction"],
}


def add_spoken(apps, schema_editor):
    Protocol = apps.get_model("triage", "Protocol")
    for row in Protocol.objects.all():
        flags = row.document.get("red_flags") if isinstance(row.document, dict) else None
        if not isinstance(flags, list) or any(
                isinstance(f, dict) and "spoken" in f for f in flags):
            continue
        for flag in flags:
            if isinstance(flag, dict) and flag.get("id") in SPOKEN:
                flag["spoken"] = SPOKEN[flag["id"]]
        row.save(update_fields=["document"])


class Migration(migrations.Migration):

    dependencies = [("triage", "0002_versioned_document")]

    operations = [migrations.RunPython(add_spoken, migrations.RunPython.noop)]
