"""The schedule pages: the week calendar, rotations and overrides."""

from django.urls import path  # noqa: F401 (routes are added here)

urlpatterns: list = []
