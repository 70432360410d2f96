from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "clinicline.oncall"
    label = "oncall"
