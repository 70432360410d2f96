from django.apps import AppConfig


class GatewaysConfig(AppConfig):
    name = "clinicline.gateways"
    label = "gateways"

    def ready(self) -> None:
        # recordings registers its worker job on import.
        from clinicline.gateways import handlers, recordings, selection  # noqa: F401

        selection.install()
        handlers.install()
