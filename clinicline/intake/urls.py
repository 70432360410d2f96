from django.urls import path

from clinicline.intake import scripts_views, views

app_name = "intake"
urlpatterns = [
    path("call-types/", views.call_types, name="call-types"),
    path("call-types/upload/", views.upload, name="upload"),
    path("scripts/", scripts_views.page, name="scripts"),
    path("scripts/edit/", scripts_views.edit, name="scripts-edit"),
    path("scripts/upload/", scripts_views.upload, name="scripts-upload"),
    path("scripts/scripts.yaml", scripts_views.export, name="scripts-export"),
    path("scripts/binder/", scripts_views.binder, name="scripts-binder"),
    path("scripts/binder.pdf", scripts_views.binder_download, name="scripts-binder-pdf"),
]
