from django.urls import path

from clinicline.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("routing/", views.routing_rules, name="routing"),
    path("q/<slug:team>/", views.queue, name="queue"),
    path("m/<uuid:message_id>/", views.message, name="message"),
    path("m/<uuid:message_id>/claim/", views.claim, name="claim"),
    path("m/<uuid:message_id>/reassign/", views.reassign, name="reassign"),
    path("m/<uuid:message_id>/note/", views.note, name="note"),
    path("m/<uuid:message_id>/close/", views.close, name="close"),
    path("m/<uuid:message_id>/reply/", views.reply, name="reply"),
]
