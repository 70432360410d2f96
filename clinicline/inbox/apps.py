from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "clinicline.inbox"
    label = "inbox"
