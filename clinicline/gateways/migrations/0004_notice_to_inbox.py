# The in-app notice moves to the inbox app with its rows: the table is renamed to the one
# inbox.Notice uses, and the model leaves this app's state (inbox 0006 takes it up).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0003_constraints'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='notice', table='inbox_notice'),
            ],
            state_operations=[
                migrations.DeleteModel(name='Notice'),
            ],
        ),
    ]
