from django.urls import path

from clinicline.intake import views

app_name = "intake"
urlpatterns = [
    path("call-types/", views.call_types, name="call-types"),
    path("call-types/upload/", views.upload, name="upload"),
]
