from django.apps import AppConfig


class ClinicLineConfig(AppConfig):
    """The project itself as an app: its templates, static files, and the commands that
    run the whole of it (``worker``, ``serve``)."""

    name = "clinicline"
    label = "clinicline"
