from django.urls import path

from clinicline.patients import consent_views, views

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<uuid:patient_id>/", views.detail, name="detail"),
    path("<uuid:patient_id>/edit/", views.edit, name="edit"),
    path("<uuid:patient_id>/phones/", views.add_phone, name="add_phone"),
    path("<uuid:patient_id>/consent/", consent_views.record_consent, name="consent"),
    path("<uuid:patient_id>/consent.csv", consent_views.export, name="consent_export"),
    path("<uuid:patient_id>/preferences/", consent_views.preferences, name="preferences"),
    path("<uuid:patient_id>/break-glass/", views.break_glass_view, name="break_glass"),
]
