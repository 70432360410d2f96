from django.urls import path

from clinicline.outreach import appointment_views as views

app_name = "appointments"
urlpatterns = [
    path("", views.upcoming, name="upcoming"),
    path("import/", views.upload, name="import"),
    path("import/<uuid:upload>/", views.preview, name="preview"),
    path("import/<uuid:upload>/confirm/", views.confirm, name="confirm"),
    path("reminders/", views.reminder_page, name="reminders"),
    path("reminders/timing/", views.offsets, name="offsets"),
    path("reminders/runs/", views.start_run, name="start-run"),
    path("reminders/runs/<uuid:run>/", views.run_page, name="run"),
]
