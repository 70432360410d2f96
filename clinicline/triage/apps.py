from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "clinicline.triage"
    label = "triage"
