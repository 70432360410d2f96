from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "clinicline.vault"
    label = "vault"
    verbose_name = "Vault (encryption at rest)"

    def ready(self) -> None:
        from clinicline.vault import checks  # noqa: F401  (registers the system checks)
