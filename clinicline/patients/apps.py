from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "clinicline.patients"
    label = "patients"
