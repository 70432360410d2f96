# The phone simulator's log moves to the simulator app with its rows. The table keeps its
# name (simulator.SimulatorEvent sets db_table to it: the vault seals each value for its
# table), so only the state changes here; simulator 0001 takes the model up.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0004_notice_to_inbox'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='SimulatorEvent'),
            ],
        ),
    ]
