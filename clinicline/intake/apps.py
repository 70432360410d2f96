from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clinicline.intake"
    label = "intake"

    def ready(self) -> None:
        from clinicline.intake import checks  # noqa: F401  (registers the system check)
