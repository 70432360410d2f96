"""Voicemail recordings move from the gateways app to the inbox: the domain owns them, the
gateway only fetches their audio. In state only: the table keeps its name (gateways_recording),
which is part of the associated data of every value sealed in it."""

import clinicline.vault.fields
import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0005_simulatorevent_to_simulator'),
        ('inbox', '0006_notice'),
        ('practices', '0005_intake_settings'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='Recording',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('call_sid', models.CharField(db_index=True, max_length=64)),
                ('recording_sid', models.CharField(max_length=64, unique=True)),
                ('source_url', clinicline.vault.fields.EncryptedTextField()),
                ('duration_s', models.PositiveIntegerField(blank=True, null=True)),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('stored', 'Stored'), ('failed', 'Failed')], default='pending', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('due_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('file', models.CharField(blank=True, help_text='under the data dir', max_length=200)),
                ('fetched_at', models.DateTimeField(blank=True, null=True)),
                ('deleted_from_vendor_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.CharField(blank=True, max_length=200)),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
            ],
            options={
                'db_table': 'gateways_recording',
            },
        ),
        migrations.AlterField(
            model_name='message',
            name='recording',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.recording'),
        ),
    ])]
