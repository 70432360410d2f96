from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clinicline.intake"
    label = "intake"

    def ready(self) -> None:
        # After the gateways app (INSTALLED_APPS order): these replace its default voice,
        # gather, recording and sms handlers. transcribe and texts register worker jobs on
        # import.
        from clinicline.intake import ivr, texts, transcribe  # noqa: F401

        ivr.install()
        texts.install()
