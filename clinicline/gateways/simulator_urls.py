from django.urls import path

from clinicline.gateways import simulator

# A phone is named by an opaque token (its blind index), never by its number.
app_name = "simulator"
urlpatterns = [
    path("", simulator.phones, name="phones"),
    path("open/", simulator.open_number, name="open"),
    path("<str:phone>/", simulator.phone, name="phone"),
    path("<str:phone>/text/", simulator.send_text, name="text"),
    path("<str:phone>/call/", simulator.call, name="call"),
    path("<str:phone>/keys/", simulator.press_keys, name="keys"),
    path("<str:phone>/voicemail/", simulator.voicemail, name="voicemail"),
    path("<str:phone>/silence/", simulator.stay_silent, name="silence"),
    path("<str:phone>/line-answers/", simulator.line_answers, name="line_answers"),
    path("<str:phone>/line-unanswered/", simulator.line_unanswered, name="line_unanswered"),
    path("<str:phone>/hang-up/", simulator.hang_up, name="hang_up"),
]
