"""Security defaults: headers on every page, CSRF, a CSP the templates can live with, and
error reports and log lines that keep only the shape of a failure, never its PHI."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter, get_exception_reporter_class

from clinicline.audit.models import Action, AuditEvent
from clinicline.demo.seed import PATIENTS
from clinicline.errors import SETTINGS_SHOWN, PHISafeExceptionReporterFilter, PHISafeFormatter
from tests.conftest import PASSWORD, signed_in
from tests.support_proc import PRODUCTION_HOST, base_env, clinicline, production_env

TEMPLATES = Path(settings.BASE_DIR) / "clinicline" / "templates"
# Identifiers of a drill patient, built from data so that no literal PHI sits in this file's
# source (error pages quote the source lines around each frame).
GIVEN, FAMILY, DOB, PHONE, MRN, _ = PATIENTS[0]
NAME = f"{GIVEN} {FAMILY}"
IDENTIFIERS = [NAME, GIVEN, FAMILY, DOB.isoformat(), PHONE, PHONE[2:], MRN]


def assert_secure_page_headers(response) -> None:  # noqa: ANN001
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "no-store" in response.headers["Cache-Control"]


# --- headers --------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_login_page_sends_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert_secure_page_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_a_practice_page_sends_the_security_headers(nurse, practice):
    response = signed_in(nurse).get(reverse("practices:home",
                                            kwargs={"practice": practice.slug}))
    assert response.status_code == 200
    assert practice.name in response.content.decode()
    assert_secure_page_headers(response)


def test_a_patient_page_is_never_cached(nurse, practice, patient):
    response = signed_in(nurse).get(reverse("patients:detail", kwargs={
        "practice": practice.slug, "patient_id": patient.pk}))
    assert response.status_code == 200
    assert_secure_page_headers(response)


@pytest.mark.django_db
def test_error_pages_send_the_security_headers_too(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert_secure_page_headers(response)


@pytest.mark.django_db
@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                   SECURE_HSTS_PRELOAD=True, SECURE_SSL_REDIRECT=True,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_hsts_and_the_https_redirect_under_production_like_settings():
    client = Client()  # a new handler, so SecurityMiddleware reads the overridden settings
    response = client.get(reverse("accounts:login"), headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"
    plain = client.get(reverse("accounts:login"))
    assert plain.status_code == 301
    assert plain.url.startswith("https://")


PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client()
host = {"host": "PRODUCTION_HOST"}
secure = client.get("/healthz", headers={**host, "x-forwarded-proto": "https"})
plain = client.get("/accounts/login/", headers=host)
probe = client.get("/healthz", headers=host)
print(json.dumps({
    "status": secure.status_code, "hsts": secure.headers.get("Strict-Transport-Security"),
    "plain_status": plain.status_code, "plain_location": plain.headers.get("Location"),
    "plain_healthz_status": probe.status_code,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "debug": settings.DEBUG,
}))
""".replace("PRODUCTION_HOST", PRODUCTION_HOST)


def test_production_settings_send_hsts_and_redirect_plain_http(tmp_path):
    """The real production settings, not overrides: a subprocess with CLINICLINE_PRODUCTION."""
    result = clinicline("shell", "-v", "0", "-c", PROBE, env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "status": 200, "hsts": "max-age=31536000; includeSubDomains; preload",
        "plain_status": 301, "plain_location": f"https://{PRODUCTION_HOST}/accounts/login/",
        "plain_healthz_status": 200,  # load balancers probe over plain HTTP
        "session_cookie_secure": True, "csrf_cookie_secure": True,
        "session_cookie_httponly": True, "debug": False,
    }


# --- the client's address (audit rows, login lockout) ------------------------------------

@pytest.mark.django_db
def test_without_a_proxy_a_forwarded_for_header_is_not_believed(nurse):
    Client().post(reverse("accounts:login"), {"username": "nurse", "password": "wrong"},
                  headers={"x-forwarded-for": "203.0.113.66"})
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.ip == "127.0.0.1"


BEHIND_PROXY = """
import json
from django.test import Client
from clinicline.accounts.models import User
from clinicline.audit.models import AuditEvent
User.objects.create_user("nurse", password="correct horse battery staple")
proxied = {"host": "clinic.example.org", "x-forwarded-proto": "https"}
for attempt in range(5):  # someone, somewhere, guessing
    Client(REMOTE_ADDR="10.0.0.2").post(
        "/accounts/login/", {"username": "mallory", "password": f"guess {attempt}"},
        headers={**proxied, "x-forwarded-for": "203.0.113.66"})
response = Client(REMOTE_ADDR="10.0.0.2").post(
    "/accounts/login/", {"username": "nurse", "password": "correct horse battery staple"},
    headers={**proxied, "x-forwarded-for": "198.51.100.7"})
print(json.dumps({"status": response.status_code,
                  "ips": sorted(set(AuditEvent.objects.values_list("ip", flat=True)))}))
"""


def test_behind_the_proxy_the_client_address_is_used(tmp_path):
    env = base_env(tmp_path, CLINICLINE_BEHIND_TLS_PROXY="1", ALLOWED_HOSTS=PRODUCTION_HOST)
    assert clinicline("migrate", "--no-input", env=env).returncode == 0
    result = clinicline("shell", "-v", "0", "-c", BEHIND_PROXY, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"status": 302, "ips": ["198.51.100.7", "203.0.113.66"]}


# --- CSRF ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_login_post_without_a_csrf_token_is_refused(nurse):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"),
                           {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_login_post_with_the_csrf_token_goes_through(nurse):
    """The refusal above is CSRF, not something else: the same post with a token works."""
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(reverse("accounts:login"), {
        "username": "nurse", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_a_signed_in_post_without_a_csrf_token_is_refused(nurse, practice, patient):
    client = signed_in(nurse, Client(enforce_csrf_checks=True))
    url = reverse("patients:add_phone", kwargs={"practice": practice.slug,
                                                "patient_id": patient.pk})
    response = client.post(url, {"phone": "+16175550111", "label": "home"})
    assert response.status_code == 403
    assert patient.contact_points.count() == 1


@pytest.mark.django_db
def test_logging_out_takes_a_post():
    assert Client().get(reverse("accounts:logout")).status_code == 405


# --- templates that a strict CSP can serve ----------------------------------------------

INLINE = [
    ("inline <script>", re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)),
    ("<script> with a body", re.compile(r"<script\b[^>]*>\s*[^<\s]", re.I)),
    ("<style> element", re.compile(r"<style\b", re.I)),
    ("style= attribute", re.compile(r"[\s\"']style\s*=", re.I)),
    ("on…= event handler", re.compile(r"[\s\"']on[a-z]+\s*=", re.I)),
    ("javascript: URL", re.compile(r"javascript:", re.I)),
]


def inline_code(html: str) -> list[str]:
    """What in this HTML a CSP without 'unsafe-inline' would block."""
    return [what for what, pattern in INLINE if pattern.search(html)]


@pytest.mark.parametrize(("html", "found"), [
    ("<script>alert(1)</script>", ["inline <script>", "<script> with a body"]),
    ('<script type="module">go()</script>', ["inline <script>", "<script> with a body"]),
    ('<script src="/s.js">go()</script>', ["<script> with a body"]),
    ("<style>p {}</style>", ["<style> element"]),
    ('<p style="color: red">', ["style= attribute"]),
    ('<a href="#" onclick="go()">', ["on…= event handler"]),
    ('<body onload="go()">', ["on…= event handler"]),
    ('<a href="javascript:go()">', ["javascript: URL"]),
    ('<script src="{% static \'x.js\' %}" defer></script><p class="only one">', []),
])
def test_the_inline_code_scanner_finds_what_csp_blocks(html, found):
    assert inline_code(html) == found


def test_templates_contain_no_inline_script_or_style():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) >= 10
    offenders = {str(t.relative_to(TEMPLATES)): found
                 for t in templates if (found := inline_code(t.read_text()))}
    assert offenders == {}


def test_rendered_pages_contain_no_inline_script_or_style(nurse, practice, patient):
    client = signed_in(nurse)
    pages = [reverse("practices:home", kwargs={"practice": practice.slug}),
             reverse("patients:search", kwargs={"practice": practice.slug}),
             reverse("patients:create", kwargs={"practice": practice.slug}),
             reverse("patients:detail", kwargs={"practice": practice.slug,
                                                "patient_id": patient.pk}),
             reverse("patients:edit", kwargs={"practice": practice.slug,
                                              "patient_id": patient.pk})]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url
    login = Client().get(reverse("accounts:login"))
    assert inline_code(login.content.decode()) == []


def test_every_static_file_a_template_names_can_be_found():
    named = set()
    for template in TEMPLATES.rglob("*.html"):
        named |= set(re.findall(r"{% static '([^']+)' %}", template.read_text()))
    assert named >= {"clinicline/site.css", "clinicline/site.js"}
    assert {path for path in named if finders.find(path) is None} == set()


# --- error reports ------------------------------------------------------------------------

def schedule_callback(patient_name: str, date_of_birth: str) -> None:
    """A failing step with PHI in its local variables (and not in its message)."""
    callback_for = f"{patient_name} ({date_of_birth})"
    raise RuntimeError(f"no on-call provider for a callback of {len(callback_for)} chars")


def report_for(request, fail=schedule_callback) -> ExceptionReporter:  # noqa: ANN001
    """The report Django would make (error page with DEBUG on, mail to ADMINS)."""
    try:
        fail(NAME, DOB.isoformat())
    except Exception:
        return get_exception_reporter_class(request)(request, *sys.exc_info())
    raise AssertionError("the step did not fail")


def phi_request():  # noqa: ANN201
    return RequestFactory().post(
        "/p/riverside/patients/",
        {"given_name": GIVEN, "family_name": FAMILY, "date_of_birth": DOB.isoformat(),
         "phone": PHONE, "mrn": MRN})


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_error_reports_hide_post_values_locals_and_settings(debug):
    with override_settings(DEBUG=debug):
        reporter = report_for(phi_request())
        assert isinstance(reporter.filter, PHISafeExceptionReporterFilter)
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    for report in (text, html):
        for identifier in IDENTIFIERS:
            assert identifier not in report
        assert settings.SECRET_KEY not in report
        for key in settings.MASTER_KEYS:
            assert key not in report
        assert str(settings.DATABASES["default"]["NAME"]) not in report
    # The shape of the failure is kept: which step, which POST fields, which locals.
    assert "RuntimeError" in text and "schedule_callback" in text
    assert "given_name" in text and "callback_for" in html and "patient_name" in html
    shown = set(re.findall(r"^([A-Z][A-Z0-9_]*) = ", text.split("Settings:", 1)[1], re.M))
    assert shown and shown <= SETTINGS_SHOWN


def test_the_settings_allow_list_shows_no_secret():
    assert SETTINGS_SHOWN.isdisjoint({"SECRET_KEY", "MASTER_KEYS", "DATABASES",
                                      "EMAIL_HOST_PASSWORD", "DATA_DIR"})


def fail_with_phi_in_the_message(patient_name: str, date_of_birth: str) -> None:
    raise ValueError(f"invalid date {date_of_birth!r} for {patient_name}")


def fail_with_phi_in_a_chain(patient_name: str, date_of_birth: str) -> None:
    try:
        fail_with_phi_in_the_message(patient_name, date_of_birth)
    except ValueError as exc:
        raise LookupError(f"no patient {patient_name}") from exc


def test_error_reports_leave_out_the_exception_message():
    reporter = report_for(phi_request(), fail=fail_with_phi_in_a_chain)
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "LookupError" in text and "ValueError" in text
    for report in (text, html):
        assert NAME not in report and DOB.isoformat() not in report


# --- log lines ------------------------------------------------------------------------------

def failing_record(formatter_first: logging.Formatter | None = None) -> logging.LogRecord:
    """A log record of an exception whose message (and cause's message) carries PHI."""
    try:
        fail_with_phi_in_a_chain(NAME, DOB.isoformat())
    except LookupError:
        record = logging.LogRecord("clinicline.test", logging.ERROR, __file__, 1,
                                   "callback failed for patient %s", ("7f3c",), sys.exc_info())
    if formatter_first is not None:
        formatter_first.format(record)
    return record


def safe_formatter() -> logging.Formatter:
    """The formatter the settings configure for the console handler."""
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h.formatter, PHISafeFormatter)]
    assert handlers, "the root logger has no handler with the PHI-safe formatter"
    return handlers[0].formatter


def test_the_log_formatter_drops_exception_messages():
    output = safe_formatter().format(failing_record())
    assert "callback failed for patient 7f3c" in output
    assert "LookupError: <redacted>" in output
    assert "in fail_with_phi_in_a_chain" in output and "test_security.py" in output
    for identifier in IDENTIFIERS:
        assert identifier not in output


def test_logging_an_exception_through_a_logger_is_redacted():
    stream_output: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream_output.append(self.format(record))

    handler = Collect()
    handler.setFormatter(PHISafeFormatter("%(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("clinicline.test.redaction")
    log.addHandler(handler)
    try:
        try:
            fail_with_phi_in_the_message(NAME, DOB.isoformat())
        except ValueError:
            log.exception("could not schedule the callback")
    finally:
        log.removeHandler(handler)
    assert len(stream_output) == 1
    assert "ValueError: <redacted>" in stream_output[0]
    assert NAME not in stream_output[0] and DOB.isoformat() not in stream_output[0]


def test_the_log_formatter_redacts_even_after_another_formatter():
    output = safe_formatter().format(failing_record(formatter_first=logging.Formatter()))
    assert "LookupError: <redacted>" in output
    assert NAME not in output
