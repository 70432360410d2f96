"""A URLconf for tests: the real site plus one view that fails with PHI in hand.

The failing view holds a drill patient's identifiers in local variables and in its
exception's message, as a decrypting view would; the site's error handling and logging
must keep all of it out of the response and out of the log.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinicline.demo.seed import PATIENTS
from clinicline.urls import urlpatterns as site

FAILING_PATH = "test-support/fail-with-phi/"


def fail_with_phi(request: HttpRequest) -> HttpResponse:
    given, family, dob, phone, mrn, _ = PATIENTS[0]
    patient_name = f"{given} {family}"
    callback = {"name": patient_name, "dob": dob.isoformat(), "phone": phone, "mrn": mrn}
    raise ValueError(f"cannot page on-call for {patient_name}, born {callback['dob']}, "
                     f"at {callback['phone']} ({callback['mrn']})")


urlpatterns = [*site, path(FAILING_PATH, fail_with_phi)]
