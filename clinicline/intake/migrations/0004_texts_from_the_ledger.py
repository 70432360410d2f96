"""Texts the worker had not read yet when the sms webhook still left them in the gateway's
ledger become InboundText rows, due now: none is lost in the upgrade. Early status
callbacks still waiting for their delivery get their retry time."""

from django.db import migrations
from django.utils import timezone

WAITING_STATUS = "waiting for the delivery's vendor id"


def carry_over(apps, schema_editor):
    InboundWebhook = apps.get_model("gateways", "InboundWebhook")
    InboundText = apps.get_model("intake", "InboundText")
    now = timezone.now()
    for webhook in InboundWebhook.objects.filter(kind="sms", processed_at__isnull=True):
        params = webhook.params or {}
        InboundText.objects.get_or_create(message_sid=webhook.key, defaults={
            "practice_id": webhook.practice_id, "received_at": webhook.received_at,
            "due_at": now, "content": {"sender": params.get("From", ""),
                                       "body": params.get("Body", "")}})
        InboundWebhook.objects.filter(pk=webhook.pk).update(processed_at=now)
    InboundWebhook.objects.filter(kind="status", processed_at__isnull=True,
                                  error=WAITING_STATUS).update(retry_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("gateways", "0006_recording_leaves_retry_columns"),
        ("intake", "0003_calls_and_texts"),
    ]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
