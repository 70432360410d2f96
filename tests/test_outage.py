"""The database unreachable, seen from a browser and a load balancer: /healthz says 503
(down, not broken) and comes back to 200; every page is the styled "briefly unavailable"
503 with Retry-After, never the 500 page."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.accounts.roles import Role
from tests.conftest import make_member, signed_in
from tests.support_db import database_down
from tests.test_error_pages import HEADINGS, leaks

pytestmark = pytest.mark.django_db


def test_healthz_is_503_while_the_database_is_down_and_200_after(db):
    with database_down():
        down = Client().get("/healthz")
    assert (down.status_code, down.json(), down["Retry-After"]) == (
        503, {"status": "unavailable"}, "5")
    back = Client().get("/healthz")
    assert (back.status_code, back.json()) == (200, {"status": "ok"})


def test_a_signed_in_page_is_the_styled_503(practice, caplog):
    """The session is read in a middleware, before any view: still the 503 page."""
    client = signed_in(make_member(practice, Role.FRONT_DESK))
    with caplog.at_level(logging.WARNING), database_down():
        response = Client(raise_request_exception=False, **_cookies(client)).get(
            reverse("practices:home", kwargs={"practice": practice.slug}))
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert HEADINGS[503] in page and "clinicline/site.css" in page and leaks(page) == []
    told = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in told] == [("clinicline.outage", "WARNING")]
    assert "OperationalError" in caplog.text and "connection refused" not in caplog.text


def test_a_view_that_finds_the_database_gone_is_the_styled_503(db):
    """No session: the view is the first to ask (the login page's throttle)."""
    with database_down():
        response = Client().post(reverse("accounts:login"),
                                 {"username": "nurse", "password": "wrong password"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert HEADINGS[503] in response.content.decode()


def _cookies(client: Client) -> dict[str, str]:
    return {"HTTP_COOKIE": "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())}
