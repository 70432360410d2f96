from django.urls import include, path

app_name = "gateways"
urlpatterns = [
    path("twilio/", include("clinicline.gateways.webhook_urls")),
]
