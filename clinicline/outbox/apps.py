from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "clinicline.outbox"
    label = "outbox"
