from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clinicline.intake"
    label = "intake"
