from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "clinicline.simulator"
    label = "simulator"
