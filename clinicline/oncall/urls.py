from django.urls import include, path

app_name = "oncall"
urlpatterns = [
    path("schedules/", include("clinicline.oncall.schedule_urls")),
    path("contacts/", include("clinicline.oncall.contact_urls")),
    path("", include("clinicline.oncall.page_urls")),
]
