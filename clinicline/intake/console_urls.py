"""The agent console, under /p/<practice>/console/."""

from django.urls import path

from clinicline.intake import console

app_name = "console"
urlpatterns = [
    path("", console.call, name="call"),
    path("check/", console.check, name="check"),
    path("save/", console.save, name="save"),
    path("taken/", console.taken, name="taken"),
    path("return-call/", console.return_call, name="return-call"),
]
