from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "clinicline.practices"
    label = "practices"
