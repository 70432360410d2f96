from django.urls import include, path

from clinicline import views
from clinicline.intake import console
from clinicline.oncall import page_views
from clinicline.outreach import results_views
from clinicline.simulator import views as simulator

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("clinicline.accounts.urls")),
    path("gateways/", include("clinicline.gateways.urls")),
    path("simulator/", simulator.simulator_home, name="simulator"),
    path("console/", console.picker, name="console"),
    # A page's secure link: short, as it goes in a text.
    path("a/<str:token>", page_views.page_link, name="page_link"),
    # A results-ready link: the patient's, no practice in it, nothing shown before the DOB.
    path("r/<str:token>/", results_views.results_link, name="results_link"),
    path("feeds/oncall/", include("clinicline.oncall.feed_urls")),
    path("p/<slug:practice>/", include("clinicline.practices.urls")),
    path("p/<slug:practice>/patients/", include("clinicline.patients.urls")),
    path("p/<slug:practice>/compliance/", include("clinicline.audit.urls")),
    path("p/<slug:practice>/simulator/", include("clinicline.simulator.urls")),
    path("p/<slug:practice>/gateway/", include("clinicline.gateways.settings_urls")),
    path("p/<slug:practice>/triage/", include("clinicline.triage.urls")),
    path("p/<slug:practice>/intake/", include("clinicline.intake.urls")),
    path("p/<slug:practice>/inbox/", include("clinicline.inbox.urls")),
    path("p/<slug:practice>/console/", include("clinicline.intake.console_urls")),
    path("p/<slug:practice>/oncall/", include("clinicline.oncall.urls")),
    path("p/<slug:practice>/staff/", include("clinicline.accounts.staff_urls")),
    path("p/<slug:practice>/outreach/", include("clinicline.outreach.urls")),
    path("p/<slug:practice>/appointments/", include("clinicline.outreach.appointment_urls")),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
