"""Call-type documents say what their types mean (``clinical: true``, ``general: true``),
so no code tests their slugs. Stored versions get the meaning their slugs had until now:
clinical and refill are clinical, other is general; a version with neither gets its first
type as clinical (the urgent line took the first type) and its last as general."""

from django.db import migrations


def add_meanings(apps, schema_editor):
    CallTypeSet = apps.get_model("intake", "CallTypeSet")
    for row in CallTypeSet.objects.all():
        types = row.document.get("call_types") if isinstance(row.document, dict) else None
        if not isinstance(types, list) or not types or not all(isinstance(t, dict) for t in types):
            continue  # not a document the app can read anyway
        for entry in types:
            if entry.get("slug") in ("clinical", "refill"):
                entry["clinical"] = True
            if entry.get("slug") == "other":
                entry["general"] = True
        if not any(t.get("clinical") for t in types):
            types[0]["clinical"] = True
        if not any(t.get("general") for t in types):
            types[-1]["general"] = True
        row.save(update_fields=["document"])


class Migration(migrations.Migration):

    dependencies = [("intake", "0004_texts_from_the_ledger")]

    operations = [migrations.RunPython(add_meanings, migrations.RunPython.noop)]
