from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clinicline.audit"
    label = "audit"
