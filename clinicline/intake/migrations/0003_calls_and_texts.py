"""Intake owns its work: the calls the IVR answered, and texts waiting for the worker."""

import clinicline.vault.fields
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0002_versioned_document'),
        ('practices', '0005_intake_settings'),
    ]

    operations = [
        migrations.CreateModel(
            name='Call',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('call_sid', models.CharField(max_length=64, unique=True)),
                ('caller', clinicline.vault.fields.EncryptedTextField(blank=True, help_text='the number calling, E.164')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='InboundText',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('message_sid', models.CharField(max_length=64, unique=True)),
                ('content', clinicline.vault.fields.EncryptedJSONField(default=dict, help_text='sender and body')),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('state', models.CharField(choices=[('waiting', 'Waiting'), ('done', 'Done'), ('failed', 'Failed')], default='waiting', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('due_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('error', models.CharField(blank=True, max_length=200)),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
            ],
            options={
                'abstract': False,
            },
        ),
    ]
