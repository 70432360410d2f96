"""No form answers bad input with a 500, and none half-saves what it refuses.

The forms are found the way a person finds them: every route of the URLconf is opened by
every persona (signed out, stopped at the code, a new hire enrolling, and a member of each
role), and every ``<form>`` on the pages that open is read, with its fields and where it
posts (a button's ``formaction`` too). A route that takes a POST but that no page shows a
form for is still posted to, with its nearest sibling's fields. Each form then gets, as
the persona that saw it, first a sweep (every field at once holding one of the values
that once made a 500: "²", an integer past a bigint, 9999-12-31, a NUL, a YAML file with a
Python tag…) and then a few examples from hypothesis, mixing those with the field's own
options and with random text. Every answer must be below 500; every refusal (4xx) must
leave the database as it was, apart from the audit trail, sessions and lockout counters.

A new view or form needs nothing here: if it reads an id with ``int()``, adds a day to an
unbounded date or loads YAML with a tag, this test fails on it. Derandomized, so CI is
deterministic and a failure replays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import get_resolver
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.practices.models import Holiday, Practice
from tests.conftest import make_member, make_practice, signed_in
from tests.practices.test_notices import notify
from tests.test_tenancy import MAKERS, fill, walk

pytestmark = pytest.mark.django_db

EXAMPLES = 4  # per form, after the sweep: some 60 forms, a minute or two in all
# Webhooks are not forms (tests/gateways/test_webhooks_fuzz.py fuzzes them); logging out
# ends the persona's session, which every example makes afresh anyway. Calendar feeds are
# read by calendar apps, a GET of a secret address (tests/oncall/test_pages.py).
NOT_FORMS = ("gateways/twilio/", "healthz", "accounts/logout/", "feeds/oncall/")
# What may change when a request is refused: the record of the refusal itself.
UNCHECKED_APPS = {"audit", "axes", "sessions", "contenttypes", "auth"}
UNCHECKED_COLUMNS = {"throttling_failure_timestamp", "throttling_failure_count", "last_used_at",
                     "last_login", "updated_at"}

PRACTICE = "/p/"
BIG = str(2**63)  # one past the largest bigint key
SWEEP = ["²", BIG, "9999-12-31", "0001-01-01", "", "\x00", "x" * 5000]
ODD = [*SWEEP, "١٢٣", "9" * 40, "-1", "2001-02-30", " ", "0", "𝟗", "1e309", "NaN",
       "+275760-09-13", "25:61", "24:00",
       "1958-13-01", "😷" * 300, "<b>", "' OR 1=1 --", "../../etc/passwd", "\r\n", "\ufeff1",
       "00000000-0000-0000-0000-000000000000", "ﬀ", "\u2028"]
YAML_FILES = [
    b"questions: !!python/name:os.system\n",
    b"call_types:\n  - !custom {slug: a}\n",
    b"call_types:\n  - slug: a\n    label: 2001-02-30\n",
    b"x: " + b"[" * 3000 + b"]" * 3000 + b"\n",
    b"a: &x [1]\nb: *x\n",
    b"x: !!int abc\n",
    b"\xff\xfe\x00 not utf-8",
    b"",
    b"\xef\xbb\xbfquestions: []\n",
    b"- " * 2000 + b"x\n",
]


# --- finding the forms -------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str  # "text", "file", "select", ...
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)
    persona: str = ""

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.action} as {self.persona}"


class FormReader(HTMLParser):
    """The forms of a page: where each posts, and the fields it sends."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url, self.forms, self.current = page_url, [], None
        self.select: Field | None = None
        self.links: list[str] = []

    def _add(self, name: str | None, kind: str, value: str | None = None) -> None:
        if self.current is None or not name:
            return
        found = self.current.fields.setdefault(name, Field(name, kind))
        if value:
            found.options.append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(_local(urljoin(self.page_url, a["href"])))
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.current = Form((a.get("method") or "get").lower(), action)
            self.forms.append(self.current)
        elif tag == "input" and a.get("type") not in ("submit", "reset"):
            self._add(a.get("name"), a.get("type") or "text", a.get("value"))
        elif tag == "textarea":
            self._add(a.get("name"), "textarea")
        elif tag == "select":
            self._add(a.get("name"), "select")
            self.select = self.current.fields.get(a.get("name") or "") if self.current else None
        elif tag == "option" and self.select is not None:
            self.select.options.append(a.get("value") or "")
        elif tag == "button" and a.get("formaction") and self.current is not None:
            other = Form(self.current.method, urljoin(self.page_url, a["formaction"]))
            other.fields = self.current.fields  # the same fields, posted elsewhere
            self.forms.append(other)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


@dataclass
class World:
    practice: Practice
    personas: dict[str, Callable[[], Client]]
    urls: list[str]
    pages: set[str] = field(default_factory=set)  # the urls some persona could GET


def _half_open(user: User) -> Callable[[], Client]:
    def client() -> Client:
        c = Client()
        c.force_login(user)  # past the password, not the code
        return c
    return client


def world() -> World:
    practice = make_practice()
    objects = {name: make(practice) for name, make in MAKERS.items()}
    members = {role: make_member(practice, role, f"fuzz-{role}") for role in Role}
    notify(practice, members[Role.NURSE], "You have a new secure message", "fuzz-notice")
    Holiday.objects.create(practice=practice, date=dt.date(2026, 12, 25), name="Christmas")
    newhire = User.objects.create_user("fuzz-newhire")
    Membership.objects.create(user=newhire, practice=practice, role=Role.AGENT)
    personas: dict[str, Callable[[], Client]] = {
        "signed out": Client,
        "a new hire at enrolment": _half_open(newhire),
        "a nurse stopped at the code": _half_open(make_member(practice, Role.NURSE, "fuzz-mfa")),
    }
    personas |= {str(role): (lambda user=user: signed_in(user)) for role, user in
                 members.items()}
    urls = [fill(route, practice, objects) for route, _ in walk(get_resolver().url_patterns)
            if not route.startswith(NOT_FORMS)]
    return World(practice, personas, urls)


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def read(url: str, client: Client) -> FormReader | None:
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return None
    reader = FormReader("http://testserver" + url)
    reader.feed(response.content.decode())
    return reader


def forms_on(url: str, persona: str, client: Client, pages: set[str]) -> list[Form]:
    """The page's forms, those of the same page under its links' queries (a console's call
    type, a queue's tab), and a GET form's fields sent to the links below it (an export of
    what the filters show)."""
    reader = read(url, client)
    if reader is None:
        return []
    pages.add(url)
    forms = [*reader.forms]
    for link in dict.fromkeys(reader.links):
        path = link.split("?")[0]
        if path == url and "?" in link:
            forms += (read(link, client) or FormReader("")).forms
        for form in reader.forms:
            if form.method == "get" and path != url and path.startswith(url):
                forms.append(Form("get", path, form.fields))
    for form in forms:
        form.action, form.persona = _local(form.action), persona
    return forms


def discover(w: World) -> list[Form]:
    """Every form any persona is shown, once each (the first persona to see it keeps it)."""
    found: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for url in w.urls:
        for persona, make in w.personas.items():
            if url.startswith(PRACTICE) and persona not in Role.values:
                continue  # signed out or before MFA, every practice page is a redirect
            for form in forms_on(url, persona, make(), w.pages):
                found.setdefault((form.method, form.action.split("?")[0],
                                  tuple(sorted(form.fields))), form)
    return list(found.values())


def formless_posts(w: World, forms: list[Form]) -> list[Form]:
    """Routes that answer only a POST (a GET is 405) though no page shows a form for them,
    each given its nearest sibling's fields (the form whose action shares most of its path)."""
    posted = {f.action.split("?")[0] for f in forms if f.method == "post"}
    extra = []
    for url in w.urls:
        if url in posted or url in w.pages:
            continue
        persona = next((p for p, make in w.personas.items()
                        if make().post(url).status_code not in (302, 404, 405)), None)
        if persona is not None:
            nearest = max(forms, key=lambda f: len(_common(f.action, url)))
            extra.append(Form("post", url, nearest.fields, persona))
    return extra


def _common(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# --- what the database holds -------------------------------------------------------------

def snapshot() -> dict[str, list[tuple]]:
    """Every row the refusal must not have touched, as stored (ciphertext stays ciphertext)."""
    rows = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label in UNCHECKED_APPS or model._meta.proxy:
                continue
            columns = [f.column for f in model._meta.concrete_fields
                       if f.column not in UNCHECKED_COLUMNS]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {model._meta.db_table}")  # noqa: S608
            rows[model._meta.db_table] = sorted(map(repr, cursor.fetchall()))
    return rows


def changed(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return [table for table in before if before[table] != after[table]]


# --- posting -----------------------------------------------------------------------------

def encoded(form: Form, values: dict[str, object]) -> dict[str, object]:
    data = {}
    for name, value in values.items():
        if form.fields[name].kind == "file":
            data[name] = SimpleUploadedFile("upload.yaml", value if isinstance(value, bytes)
                                            else str(value).encode())
        else:
            data[name] = value
    return data


def send(client: Client, form: Form, values: dict[str, object]) -> None:
    before = snapshot()
    try:
        response: HttpResponse = getattr(client, form.method)(form.action,
                                                              encoded(form, values))
    except Exception as exc:  # the test client re-raises what would have been a 500
        raise AssertionError(f"{form} raised {type(exc).__name__}: {str(exc)[:200]}") from exc
    assert response.status_code < 500, f"{form}: {response.status_code}"
    if response.status_code >= 400:
        assert changed(before, snapshot()) == [], f"{form} refused ({response.status_code}) " \
                                                  f"but changed the database"


def sweep(form: Form) -> Iterator[dict[str, object]]:
    for n, value in enumerate(SWEEP):
        yield {name: YAML_FILES[n % len(YAML_FILES)] if f.kind == "file" else value
               for name, f in form.fields.items()}
    for body in YAML_FILES:
        if any(f.kind == "file" for f in form.fields.values()):
            yield {name: body if f.kind == "file" else (f.options or [""])[0]
                   for name, f in form.fields.items()}


def value_of(f: Field) -> st.SearchStrategy[object]:
    if f.kind == "file":
        return st.one_of(st.sampled_from(YAML_FILES), st.binary(max_size=300))
    choices = [st.sampled_from(ODD), st.text(max_size=40),
               st.integers(-(2**70), 2**70).map(str), st.dates().map(str)]
    if f.options:
        choices.insert(0, st.sampled_from(f.options))
    return st.one_of(choices)


def values_for(form: Form) -> st.SearchStrategy[dict[str, object]]:
    """Each field given a value, or left out (None drops it)."""
    mapping = {name: st.one_of(st.none(), value_of(f)) for name, f in form.fields.items()}
    return st.fixed_dictionaries(mapping).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


def fuzz(w: World, form: Form) -> str | None:
    """The first failure on ``form``, or None."""
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(values=values_for(form))
    def examples(values: dict[str, object]) -> None:
        send(client, form, values)

    client = w.personas[form.persona]()  # one session per form: a login costs
    try:
        for values in sweep(form):
            send(client, form, values)
        examples()
    except AssertionError as exc:
        return f"{exc}".splitlines()[0] + "".join(
            f"\n    {note}" for note in getattr(exc, "__notes__", []))
    return None


def test_no_form_answers_bad_input_with_a_500_or_half_saves_it():
    w = world()
    forms = discover(w)
    forms += formless_posts(w, forms)
    posted = {f.action.split("?")[0] for f in forms}
    # The forms were found: a page that stopped drawing its form would shrink this.
    for expected in ("/accounts/login/", "/accounts/mfa/", "/accounts/mfa/enrol/",
                     "/p/riverside/inbox/", "/p/riverside/notices/read/",
                     "/p/riverside/triage/upload/", "/p/riverside/intake/call-types/upload/",
                     "/p/riverside/compliance/audit/", "/p/riverside/compliance/audit/export/"):
        assert any(p.startswith(expected) for p in posted), (expected, sorted(posted))
    assert len(forms) >= 30, [str(f) for f in forms]
    failures = [problem for form in forms if (problem := fuzz(w, form)) is not None]
    assert failures == [], "\n".join(failures)
