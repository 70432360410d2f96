"""A practice's carrier account moves from the gateways app to practices (the domain asks
which practice answers a number; only the gateway talks to the carrier). In state only:
the table keeps its name (gateways_gatewayaccount), part of the sealed token's associated
data."""

import clinicline.vault.fields
import django.core.validators
import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('practices', '0006_team_work'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='GatewayAccount',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('phone_number', models.CharField(help_text='the number patients dial; finds the practice', max_length=16, unique=True, validators=[django.core.validators.RegexValidator('^\\+[1-9]\\d{6,14}$', 'Enter the number in E.164 form, e.g. +16175550100.')])),
                ('account_sid', models.CharField(max_length=64)),
                ('auth_token', clinicline.vault.fields.EncryptedTextField()),
                ('test_mode', models.BooleanField(default=True)),
                ('delete_recordings', models.BooleanField(default=True, help_text='delete voicemail audio from the carrier once fetched')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
            ],
            options={
                'db_table': 'gateways_gatewayaccount',
                'constraints': [models.UniqueConstraint(fields=('practice',), name='one_gateway_per_practice')],
            },
        ),
    ])]
