"""A member's own contact methods and notification rules."""

from django.urls import path  # noqa: F401 (routes are added here)

urlpatterns: list = []
