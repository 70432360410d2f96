from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo practice. At the top of the layers: it seeds every one of them."""

    name = "clinicline.demo"
    label = "demo"
