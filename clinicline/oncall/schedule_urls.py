"""The schedule pages: the week calendar, rotations and overrides."""

from django.urls import path

from clinicline.oncall import schedule_views as views

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", views.schedule_new, name="schedule_new"),
    path("my-feed/", views.my_feed_new, name="my_feed_new"),
    path("<int:schedule_id>/", views.schedule_page, name="schedule"),
    path("<int:schedule_id>/rotations/add/", views.rotation_add, name="rotation_add"),
    path("<int:schedule_id>/rotations/remove/", views.rotation_remove, name="rotation_remove"),
    path("<int:schedule_id>/overrides/add/", views.override_add, name="override_add"),
    path("<int:schedule_id>/overrides/remove/", views.override_remove, name="override_remove"),
    path("<int:schedule_id>/import/", views.import_ics, name="import"),
    path("<int:schedule_id>/reviewed/", views.mark_reviewed, name="reviewed"),
    path("<int:schedule_id>/feed/", views.schedule_feed_new, name="feed_new"),
]
