from django.urls import path

from clinicline.gateways import settings_views

app_name = "gateway_settings"
urlpatterns = [
    path("", settings_views.gateway_settings, name="settings"),
    path("mode/", settings_views.gateway_mode, name="mode"),
    path("numbers/", settings_views.gateway_numbers, name="numbers"),
]
