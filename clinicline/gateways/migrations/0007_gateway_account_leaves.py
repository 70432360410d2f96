"""GatewayAccount now belongs to the practices app (its table stays: see practices 0007)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0006_recording_leaves_retry_columns'),
        ('practices', '0007_gateway_account_moves_here'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name='GatewayAccount'),
        ]),
    ]
