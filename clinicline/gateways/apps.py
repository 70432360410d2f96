from django.apps import AppConfig


class GatewaysConfig(AppConfig):
    name = "clinicline.gateways"
    label = "gateways"

    def ready(self) -> None:
        from clinicline.gateways import selection  # noqa: PLC0415 (app loading)

        selection.install()
