"""Escalation policies and the pages they open."""

from django.urls import path

from clinicline.oncall import policy_views

urlpatterns = [
    path("policy/", policy_views.policy, name="policy"),
]
