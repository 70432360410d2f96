from django.db import migrations

VENDORS = [("twilio", "Twilio", "SMS, voice calls and voicemail recordings")]


def add_vendors(apps, schema_editor):
    Vendor = apps.get_model("practices", "Vendor")
    for slug, name, services in VENDORS:
        Vendor.objects.get_or_create(slug=slug, defaults={"name": name, "services": services})


class Migration(migrations.Migration):
    dependencies = [("practices", "0002_vendor_businessassociateagreement")]
    operations = [migrations.RunPython(add_vendors, migrations.RunPython.noop)]
