from django.urls import path

from clinicline.simulator import speak_views, views

# A phone is named by an opaque token (its blind index), never by its number.
app_name = "simulator"
urlpatterns = [
    path("", views.phones, name="phones"),
    path("open/", views.open_number, name="open"),
    path("speak/", speak_views.speak, name="speak"),
    path("<str:phone>/", views.phone, name="phone"),
    path("<str:phone>/text/", views.send_text, name="text"),
    path("<str:phone>/call/", views.call, name="call"),
    path("<str:phone>/answer/", views.answer, name="answer"),
    path("<str:phone>/machine/", views.machine_answers, name="machine"),
    path("<str:phone>/keys/", views.press_keys, name="keys"),
    path("<str:phone>/voicemail/", views.voicemail, name="voicemail"),
    path("<str:phone>/silence/", views.stay_silent, name="silence"),
    path("<str:phone>/line-answers/", views.line_answers, name="line_answers"),
    path("<str:phone>/line-unanswered/", views.line_unanswered, name="line_unanswered"),
    path("<str:phone>/hang-up/", views.hang_up, name="hang_up"),
]
