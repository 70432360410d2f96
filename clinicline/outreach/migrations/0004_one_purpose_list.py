"""Outreach's purposes are the consent ledger's: "appointment-reminder" becomes the ledger's
"appointment-reminders" wherever outreach stored it (templates, decisions, calls). The ledger
itself, append-only, keeps every word it had."""

from django.db import migrations, models


OLD, NEW = "appointment-reminder", "appointment-reminders"
MODELS = ("Template", "SendDecision", "OutreachCall")


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name in MODELS:
        apps.get_model("outreach", name).objects.filter(purpose=OLD).update(purpose=NEW)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name in MODELS:
        apps.get_model("outreach", name).objects.filter(purpose=NEW).update(purpose=OLD)


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0003_alter_sendingpolicy_window_end_and_more'),
    ]

    operations = [
        migrations.AlterField(
            model_name='senddecision',
            name='channel',
            field=models.CharField(choices=[('sms', 'text message'), ('voice', 'phone call'), ('voicemail', 'voicemail'), ('email', 'email')], max_length=12),
        ),
        migrations.AlterField(
            model_name='senddecision',
            name='purpose',
            field=models.CharField(choices=[('appointment-reminders', 'appointment reminders'), ('results-ready', 'results ready'), ('care-team', 'care-team messages'), ('billing', 'billing')], max_length=24),
        ),
        migrations.AlterField(
            model_name='template',
            name='channel',
            field=models.CharField(choices=[('sms', 'text message'), ('voice', 'phone call'), ('voicemail', 'voicemail'), ('email', 'email')], max_length=12),
        ),
        migrations.AlterField(
            model_name='template',
            name='purpose',
            field=models.CharField(choices=[('appointment-reminders', 'appointment reminders'), ('results-ready', 'results ready'), ('care-team', 'care-team messages'), ('billing', 'billing')], max_length=24),
        ),
        migrations.RunPython(forward, backward),
    ]
