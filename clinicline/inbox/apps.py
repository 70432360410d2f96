from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "clinicline.inbox"
    label = "inbox"

    def ready(self) -> None:
        from clinicline.inbox import notify  # noqa: F401  (registers the worker job)
