from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinicline.accounts"
    label = "accounts"

    def ready(self) -> None:
        from clinicline.accounts import signals  # noqa: F401, PLC0415 (registers them)
