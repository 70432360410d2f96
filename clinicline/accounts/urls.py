from django.urls import path

from clinicline.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("reauth/", views.reauth, name="reauth"),
    path("keepalive", views.keepalive, name="keepalive"),
    path("set-password/<str:uidb64>/<str:token>/", views.SetPasswordView.as_view(),
         name="set_password"),
]
