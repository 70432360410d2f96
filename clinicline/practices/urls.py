from django.urls import path

from clinicline.practices import hours_views, views

app_name = "practices"
urlpatterns = [
    path("", views.practice_home, name="home"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("settings/", views.practice_settings, name="settings"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/new/", views.agreement_add, name="agreement_add"),
    path("hours/", hours_views.office_hours, name="hours"),
    path("hours/add/", hours_views.interval_add, name="hours_add"),
    path("hours/remove/", hours_views.interval_remove, name="hours_remove"),
    path("hours/holidays/add/", hours_views.holiday_add, name="holiday_add"),
    path("hours/holidays/remove/", hours_views.holiday_remove, name="holiday_remove"),
]
