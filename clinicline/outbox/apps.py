from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "clinicline.outbox"
    label = "outbox"

    def ready(self) -> None:
        from clinicline.outbox import jobs  # noqa: F401  (registers the worker jobs)
