"""The practice admin's staff pages (in ``accounts.views``: see there why)."""

from django.urls import path

from clinicline.accounts import views

app_name = "staff"
urlpatterns = [
    path("", views.staff_list, name="list"),
    path("new/", views.staff_add, name="add"),
    path("<int:user_id>/", views.staff_member, name="member"),
    path("<int:user_id>/role/", views.staff_role, name="role"),
    path("<int:user_id>/deactivate/", views.staff_deactivate, name="deactivate"),
    path("<int:user_id>/reset-mfa/", views.staff_reset_mfa, name="reset_mfa"),
    path("<int:user_id>/sign-out/", views.staff_sign_out, name="sign_out"),
]
