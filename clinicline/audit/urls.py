from django.urls import path

from clinicline.audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.events, name="events"),
    path("audit/export/", views.export, name="export"),
    path("audit/verify/", views.verify_chain, name="verify"),
]
