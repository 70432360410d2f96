from django.db import models


class DataKey(models.Model):
    """A practice's data key (or blind-index key), wrapped by a master key.

    Data keys rotate: the newest ACTIVE version encrypts, any version decrypts. Index keys
    do not rotate with them (the blind indexes would all change); there is one per practice.
    """

    class Purpose(models.TextChoices):
        DATA = "data", "data encryption"
        INDEX = "index", "blind index"

    class State(models.TextChoices):
        ACTIVE = "active"
        RETIRED = "retired"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    version = models.PositiveIntegerField()
    wrapped = models.TextField(help_text="the key, encrypted by the master key (base64)")
    master_kid = models.CharField(max_length=16, help_text="which master key wraps it")
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "purpose", "version"], name="datakey_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key v{self.version} of practice {self.practice_id}"

    @property
    def aad(self) -> bytes:
        return f"datakey:{self.practice_id}:{self.purpose}:{self.version}".encode()
