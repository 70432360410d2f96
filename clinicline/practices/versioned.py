"""Practice configuration kept as versioned data: never edited in place.

An upload adds the next version, the newest is in force, and the older ones are kept, so
whatever was decided under a version (a message triaged, a call taken) can name it. Triage
protocols and call types are both this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, cast

from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.practices.models import Practice, PracticeOwned, PracticeQuerySet


class VersionedDocument(PracticeOwned):
    version = models.PositiveIntegerField()
    document = models.JSONField(help_text="the configuration as data")
    source = models.TextField(blank=True, help_text="the file as uploaded, comments and all")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   help_text="empty for the shipped default")

    class Meta:
        abstract = True
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["practice", "version"],
                                               name="%(app_label)s_%(class)s_version")]

    @classmethod
    def versions(cls, practice: Practice) -> PracticeQuerySet[Self]:
        # ``objects`` is declared on this abstract base, so mypy types it by the base; called
        # through ``cls`` it serves the concrete model's rows.
        return cast("PracticeQuerySet[Self]", cls.objects.for_practice(practice))

    @classmethod
    def in_force(cls, practice: Practice,
                 default: Callable[[], tuple[dict[str, Any], str]]) -> Self:
        """The newest version, or version 1 made from ``default()`` (document, source)."""
        current = cls.versions(practice).order_by("-version").first()
        if current is not None:
            return current
        document, source = default()
        try:
            with transaction.atomic():
                return cls.versions(practice).create(practice=practice, version=1,
                                                     document=document, source=source)
        except IntegrityError:  # two first uses at once: the other one made version 1
            return cls.versions(practice).order_by("-version")[0]

    @classmethod
    def numbered(cls, practice: Practice, version: int) -> Self | None:
        return cls.versions(practice).filter(version=version).first()

    @classmethod
    def add_version(cls, practice: Practice, document: dict[str, Any], source: str, *,
                    what: str, by: Any = None, request: HttpRequest | None = None) -> Self:
        """Save a validated document as the next version, audited as ``<what> vN``."""
        with transaction.atomic():
            # The practice row is the lock that makes concurrent uploads take turns (SQLite
            # needs none: its write transactions already do).
            Practice.objects.select_for_update().filter(pk=practice.pk).first()
            latest = cls.versions(practice).aggregate(v=Max("version"))["v"]
            saved = cls.versions(practice).create(practice=practice, version=(latest or 0) + 1,
                                                  document=document, source=source, created_by=by)
            record(Action.SETTINGS_CHANGE, request=request, actor=by, practice=practice,
                   obj=saved, reason=f"{what} v{saved.version}")
        return saved
