# The in-app notice, moved here from gateways with its rows: gateways 0004 renamed its table
# to inbox_notice, so the model is created in state only; its index gets this app's name.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0005_transcription_retries'),
        ('gateways', '0004_notice_to_inbox'),
        ('outbox', '0001_initial'),
        ('practices', '0005_intake_settings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('body', models.CharField(help_text='PHI-free, like every notification', max_length=500)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('delivery', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='outbox.delivery')),
                        ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['practice', 'user', 'read_at', 'created_at'], name='gateways_no_practic_029ff0_idx')],
                    },
                ),
            ],
        ),
        migrations.RenameIndex(
            model_name='notice',
            new_name='inbox_notic_practic_c1a58b_idx',
            old_name='gateways_no_practic_029ff0_idx',
        ),
    ]
