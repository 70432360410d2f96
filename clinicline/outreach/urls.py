from django.urls import path

from clinicline.outreach import policy_views, send_views, views

app_name = "outreach"
KIND = "templates/<str:purpose>/<str:channel>/<str:language>/"
urlpatterns = [
    path("templates/", views.index, name="templates"),
    path(KIND, views.detail, name="template"),
    path(KIND + "edit/", views.edit, name="template-edit"),
    path(KIND + "versions/<int:number>/approve/", views.approve, name="template-approve"),
    path("patients/<uuid:patient_id>/send/", send_views.send_message, name="send"),
    path("policy/", policy_views.policy, name="policy"),
    path("policy/edit/", policy_views.edit, name="policy-edit"),
]
