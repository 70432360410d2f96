"""A member's own contact methods and notification rules."""

from django.urls import path

from clinicline.oncall import contact_views as views

urlpatterns = [
    path("", views.contact_methods, name="contacts"),
    path("add/", views.add_method, name="contact_add"),
    path("<int:method_id>/send-code/", views.send_code, name="contact_send_code"),
    path("<int:method_id>/verify/", views.verify_code, name="contact_verify"),
    path("<int:method_id>/remove/", views.remove_method, name="contact_remove"),
    path("voice-pin/", views.set_voice_pin, name="voice_pin"),
    path("rules/add/", views.add_rule, name="rule_add"),
    path("rules/<int:rule_id>/remove/", views.remove_rule, name="rule_remove"),
]
