"""No PHI in logs: a nurse's whole working session on the demo practice, and a view that
crashes with PHI in hand, leave no patient identifier in any log line, in the SQL sent to
the database, on stdout/stderr, in the audit trail or on the error page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import logging.config
import re
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from clinicline.accounts.models import User
from clinicline.audit.models import AuditEvent
from clinicline.demo import seed as demo
from clinicline.errors import PHISafeFormatter
from clinicline.patients import service
from tests.conftest import current_code
from tests.support_phi_urls import FAILING_PATH
from tests.support_proc import base_env, clinicline

pytestmark = pytest.mark.django_db

# Values the session types in that are PHI too.
NEW_PHONE = ("(617) 555-0177", "+16175550177")
NEW_STREET = "48 Harborview Terrace"


def identifiers() -> list[str]:
    """Every way a demo patient's identifiers could be written."""
    found = [NEW_PHONE[0], NEW_PHONE[1], NEW_PHONE[1][2:], NEW_STREET]
    for given, family, dob, phone, mrn, _ in demo.PATIENTS:
        digits = phone[2:]
        found += [given, family, f"{given} {family}", f"{family}, {given}",
                  dob.isoformat(), dob.strftime("%m/%d/%Y"), phone, digits,
                  f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", mrn]
    return found


def phi_in(text: str) -> list[str]:
    """The identifiers that occur in ``text`` as words of their own.

    Ciphertexts and tokens are base64 or hex, so an identifier must not be glued to letters
    or digits on either side; a leaked value never is, and a random match inside a token
    (a name of four letters, by chance) is not a leak.
    """
    return [i for i in identifiers()
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])", text)]


@dataclasses.dataclass
class Captured:
    lines: list[str]
    sql: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Capture(logging.Handler):
    def __init__(self, into: Captured) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        (self.into.sql if record.name == "django.db.backends" else self.into.lines).append(line)


def project_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING gives the console handler, built the same way."""
    config = dict(settings.LOGGING["formatters"]["safe"])
    formatter = logging.config.DictConfigurator({}).configure_formatter(config)
    assert isinstance(formatter, PHISafeFormatter)
    return formatter


@pytest.fixture
def logs():  # noqa: ANN201
    """Every log record of every logger, at DEBUG, formatted as the console would; and
    every SQL statement with its parameters (as Django logs them when DEBUG is on)."""
    captured = Captured([], [])
    handler = Capture(captured)
    handler.setFormatter(project_formatter())
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    levels = {lg: lg.level for lg in loggers}
    own_handler = [lg for lg in loggers if lg is logging.getLogger() or not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for lg in own_handler:
        lg.addHandler(handler)
    force_debug = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield captured
    finally:
        connection.force_debug_cursor = force_debug
        for lg in own_handler:
            lg.removeHandler(handler)
        for lg, level in levels.items():
            lg.setLevel(level)


def test_the_capture_sees_phi_when_it_is_logged(logs):
    """The checks below can fail: a log line with a name in it is caught."""
    given, family = demo.PATIENTS[2][:2]
    logging.getLogger("clinicline.careless").info("called back %s %s", given, family)
    logging.getLogger("django.server").info("GET /?q=%s", family)
    assert len(phi_in(logs.text)) >= 3


def test_a_whole_session_logs_no_phi(logs, capfd, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the demo password is kept here
    practice = demo.create_demo()
    nurse = User.objects.get(username="nurse")
    slug = {"practice": practice.slug}

    client = Client()
    response = client.post(reverse("accounts:login"),
                           {"username": "nurse", "password": demo.demo_password()})
    assert response.status_code == 302
    response = client.post(reverse("accounts:mfa_verify"), {"code": current_code(nurse)})
    assert response.status_code == 302
    assert client.get(reverse("practices:home", kwargs=slug)).status_code == 200

    search = reverse("patients:search", kwargs=slug)
    patients = []
    for given, family, dob, phone, _mrn, _restricted in demo.PATIENTS:
        [patient] = service.find_by_name_dob(practice, given, family, dob)
        digits = phone[2:]
        by_phone = client.post(search, {"phone": f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"})
        assert by_phone.status_code == 200
        assert str(patient.pk) in by_phone.content.decode()
        by_name = client.post(search, {"given_name": given.upper(), "family_name": family,
                                       "date_of_birth": dob.isoformat()})
        assert by_name.status_code == 200
        assert str(patient.pk) in by_name.content.decode()
        patients.append(patient)
    # A search form error: typed values come back on the page, never into a log.
    assert client.post(search, {"phone": "617 555", "given_name": demo.PATIENTS[0][0]}) \
        .status_code == 400

    for patient in patients:
        page = client.get(reverse("patients:detail", kwargs={**slug, "patient_id": patient.pk}))
        assert page.status_code == 200
        assert patient.family_name in page.content.decode()

    walter = patients[0]
    edit = reverse("patients:edit", kwargs={**slug, "patient_id": walter.pk})
    assert client.get(edit).status_code == 200
    values = {"given_name": walter.given_name, "family_name": walter.family_name,
              "date_of_birth": walter.date_of_birth.isoformat(), "mrn": walter.mrn,
              "street": NEW_STREET, "city": "Boston", "state": "MA", "postal_code": "02134"}
    assert client.post(edit, {**values, "date_of_birth": "2999-01-01"}).status_code == 400
    assert client.post(edit, values).status_code == 302
    add_phone = reverse("patients:add_phone", kwargs={**slug, "patient_id": walter.pk})
    assert client.post(add_phone, {"phone": NEW_PHONE[0], "label": "home"}).status_code == 302
    assert client.post(add_phone, {"phone": "555", "label": "home"}).status_code == 302
    walter.refresh_from_db()
    assert walter.address["street"] == NEW_STREET
    assert NEW_PHONE[1] in [c.value for c in walter.contact_points.all()]

    missing = reverse("patients:detail", kwargs={**slug, "patient_id": uuid.uuid4()})
    assert client.get(missing).status_code == 404
    assert client.get(f"/p/{practice.slug}/patients/no-such-thing/").status_code == 404

    stranger = Client()
    failed = stranger.post(reverse("accounts:login"),
                           {"username": "nurse", "password": "not the password, sorry"})
    assert failed.status_code == 200
    assert "_auth_user_id" not in stranger.session

    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("practices:home", kwargs=slug)).status_code == 302

    # The session did happen, and was logged (or the assertions below prove nothing).
    assert any("Not Found" in line for line in logs.lines)
    assert any("Bad Request" in line for line in logs.lines)
    assert any("AXES" in line for line in logs.lines)
    assert any("UPDATE" in line for line in logs.sql)
    assert len(logs.sql) > 100

    assert phi_in(logs.text) == []
    assert phi_in("\n".join(logs.sql)) == [], "plaintext PHI was sent to the database"
    out, err = capfd.readouterr()
    assert phi_in(out + err) == []
    audit = AuditEvent.objects.filter(practice_id=practice.pk)
    assert audit.count() > 20
    for event in audit:
        row = " ".join(str(getattr(event, f.attname)) for f in AuditEvent._meta.fields)
        assert phi_in(row) == [], event


@override_settings(ROOT_URLCONF="tests.support_phi_urls", DEBUG=False)
def test_a_crash_with_phi_in_hand_shows_a_generic_page_and_logs_no_phi(logs, capfd):
    given, family, dob, phone, mrn, _ = demo.PATIENTS[0]
    client = Client(raise_request_exception=False)
    response = client.post(f"/{FAILING_PATH}", {
        "given_name": given, "family_name": family, "date_of_birth": dob.isoformat(),
        "phone": phone, "mrn": mrn})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body  # clinicline's own 500 page
    assert "Traceback" not in body and "ValueError" not in body
    assert phi_in(body) == []

    errors = [line for line in logs.lines if "Internal Server Error" in line]
    assert len(errors) == 1
    assert f"/{FAILING_PATH}" in errors[0]
    assert "in fail_with_phi" in errors[0]  # where it failed is kept
    assert "ValueError: <redacted>" in errors[0]
    assert phi_in(logs.text) == []
    out, err = capfd.readouterr()
    assert phi_in(out + err) == []


DEBUG_CRASH = """
from django.test import Client, override_settings
from clinicline.demo.seed import PATIENTS
given, family, dob, phone, mrn, _ = PATIENTS[0]
with override_settings(ROOT_URLCONF="tests.support_phi_urls"):
    response = Client(raise_request_exception=False).post(
        "/FAILING_PATH", {"given_name": given, "family_name": family, "phone": phone})
print("status", response.status_code)
print(response.content.decode())
""".replace("FAILING_PATH", FAILING_PATH)


def test_a_crash_with_debug_on_logs_no_phi_either(tmp_path):
    env = base_env(tmp_path, CLINICLINE_DEBUG="1")
    result = clinicline("shell", "-v", "0", "-c", DEBUG_CRASH, env=env, cwd=settings.BASE_DIR)
    assert "status 500" in result.stdout, result.stderr
    assert "Internal Server Error" in result.stderr
    assert phi_in(result.stderr) == []
    assert "Traceback" in result.stdout  # the DEBUG page, with frames but without values
    assert phi_in(result.stdout) == []


def test_dates_are_checked_in_both_forms():
    """Identifiers include the US form of each date, which forms and pages may use."""
    assert dt.date(1958, 4, 2).strftime("%m/%d/%Y") in identifiers()
    assert phi_in("dob=04/02/1958") == ["04/02/1958"]
