"""Housekeeping the worker does for accounts."""

from django.contrib.sessions.models import Session
from django.utils import timezone

from clinicline.worker import register


@register("expired-sessions", every_s=3600)
def delete_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
