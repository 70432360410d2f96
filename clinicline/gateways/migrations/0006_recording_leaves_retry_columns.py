"""The Recording model now belongs to the inbox app (its table stays: see inbox 0006); the
webhook ledger gets the columns of the gateway's own retries of early status callbacks."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0005_simulatorevent_to_simulator'),
        ('inbox', '0007_recording_moves_here'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name='Recording'),
        ]),
        migrations.AddField(
            model_name='inboundwebhook',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='inboundwebhook',
            name='retry_at',
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
