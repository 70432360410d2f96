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
    path("<str:phone>/hang-up/", simulator.hang_up, name="hang_up"),
]
