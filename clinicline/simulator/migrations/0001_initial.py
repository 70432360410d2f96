# The phone simulator's log, moved here from gateways with its rows: the table
# (gateways_simulatorevent) is already there and keeps its name, so the model is created in
# state only, after gateways 0005 has let go of it.

import clinicline.vault.fields
import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('gateways', '0005_simulatorevent_to_simulator'),
        ('outbox', '0001_initial'),
        ('practices', '0005_intake_settings'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SimulatorEvent',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('number', clinicline.vault.fields.EncryptedTextField(help_text="the virtual phone's number")),
                        ('number_index', models.CharField(db_index=True, max_length=64)),
                        ('direction', models.CharField(choices=[('to-phone', 'To Phone'), ('from-phone', 'From Phone')], max_length=10)),
                        ('kind', models.CharField(help_text='sms, call, keys, say, record, hangup, open', max_length=8)),
                        ('body', clinicline.vault.fields.EncryptedTextField(blank=True)),
                        ('call_sid', models.CharField(blank=True, db_index=True, max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('delivery', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='outbox.delivery')),
                        ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
                    ],
                    options={
                        'db_table': 'gateways_simulatorevent',
                    },
                ),
            ],
        ),
    ]
