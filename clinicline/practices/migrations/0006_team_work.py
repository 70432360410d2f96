"""A team says what work its queue holds, so visibility reads that, not the team's slug.
Existing teams get the work their slug meant until now."""

from django.db import migrations, models

BY_SLUG = {"clinical": "clinical", "refills": "clinical", "scheduling": "scheduling",
           "billing": "billing", "practice-manager": "management"}


def work_from_slug(apps, schema_editor):
    Team = apps.get_model("practices", "Team")
    for slug, work in BY_SLUG.items():
        Team.objects.filter(slug=slug).update(work=work)


class Migration(migrations.Migration):

    dependencies = [
        ('practices', '0005_intake_settings'),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='work',
            field=models.CharField(choices=[('clinical', 'clinical: nurses and providers'), ('scheduling', 'scheduling: front desk, schedulers, nurses and providers'), ('billing', 'billing: billers and the practice manager'), ('management', "the practice manager's"), ('general', 'clinical, overseen by the practice manager')], default='general', max_length=12),
        ),
        migrations.RunPython(work_from_slug, migrations.RunPython.noop),
    ]
