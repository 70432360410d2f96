"""Housekeeping the worker does for accounts."""

from django.contrib.sessions.models import Session
from django.utils import timezone


def delete_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
