from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "clinicline.outreach"
    label = "outreach"
