from django.urls import path

from clinicline.inbox import views

app_name = "inbox"
urlpatterns = [
    path("routing/", views.routing_rules, name="routing"),
]
