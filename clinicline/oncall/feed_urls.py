"""The calendar feeds, outside the practice pages: calendar apps cannot log in, so the
secret in the address is the key (``oncall.feeds``)."""

from django.urls import path

from clinicline.oncall import schedule_views as views

app_name = "oncall_feeds"
urlpatterns = [
    path("<str:token>.ics", views.feed, name="feed"),
]
