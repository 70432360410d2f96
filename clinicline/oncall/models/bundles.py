"""Bundles: several page texts to one number inside a minute go as one text.

A ``Bundle`` is a number's minute: it opens with the page text that went on its own (that
one is never held) and closes 60 s later. Page texts to the same number whose moment falls
inside it are ``BundleEntry`` rows, held until it closes; then one text goes for all of them
that are still unowned, and that text opens the number's next minute. A number has one
holding bundle at a time (a constraint), which is also how two workers paging the same
number at once agree on it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from clinicline.oncall.models.paging import Page, PageEvent
from clinicline.practices.models import PracticeOwned
from clinicline.vault.fields import EncryptedTextField


class Bundle(PracticeOwned):
    class State(models.TextChoices):
        HOLDING = "holding"  # the number's current minute; texts that fall in it wait
        SENT = "sent"        # its one text was queued (``delivery``)
        CLOSED = "closed"    # nothing went: nobody joined, or every page was owned first

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The number, sealed like a delivery's; found by its blind index.
    to = EncryptedTextField(help_text="E.164 number")
    number_index = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.HOLDING)
    opened_at = models.DateTimeField(help_text="when the text that opened the minute went")
    closes_at = models.DateTimeField(help_text="when the held texts go, as one")
    # The worker's timer: set when the first text joins (an empty minute needs no work),
    # moved ahead by a lease while a worker sends it, empty once it is done.
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivery = models.ForeignKey("outbox.Delivery", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["practice", "number_index"], condition=models.Q(state="holding"),
            name="one_holding_bundle_per_number")]

    def __str__(self) -> str:
        return f"bundle {self.pk} ({self.state})"


class BundleEntry(models.Model):
    """One page text held for a bundle; keyed like the delivery it stands for."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="entries")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=128, unique=True,
                           help_text="the notification's idempotency key")
    # The page's "notified" event: it gets the bundle's delivery when that is queued.
    event = models.OneToOneField(PageEvent, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"entry {self.pk} of {self.bundle_id}"
