"""The phone simulator's log: what each virtual phone saw or did."""

import uuid

from django.db import models

from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedTextField


class SimulatorEvent(PracticeOwned):
    """What a virtual phone saw or did: texts in and out, calls and what was said."""

    class Direction(models.TextChoices):
        TO_PHONE = "to-phone"
        FROM_PHONE = "from-phone"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = EncryptedTextField(help_text="the virtual phone's number")
    number_index = models.CharField(max_length=64, db_index=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=8,
                            help_text="sms, call, keys, say, record, hangup, open")
    body = EncryptedTextField(blank=True)
    call_sid = models.CharField(max_length=64, blank=True, db_index=True)
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The table it had in gateways: the vault seals each value for "<table>.<column>.
        # <pk>", so a renamed table could no longer open the rows already written.
        db_table = "gateways_simulatorevent"

    def __str__(self) -> str:
        return f"simulated {self.kind} {self.direction}"
