from django.urls import path

from clinicline.triage import views

app_name = "triage"
urlpatterns = [
    path("", views.protocol_in_force, name="protocol"),
    path("upload/", views.upload, name="upload"),
    path("default/", views.default, name="default"),
    path("v<int:version>/", views.protocol_version, name="version"),
    path("v<int:version>.yaml", views.download, name="download"),
]
