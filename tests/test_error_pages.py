"""Error pages are clinicline's own, styled, and say nothing of what went wrong: no path, no
exception text, no setting. The 500 page renders with the database down."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from clinicline import views
from tests.support_error_urls import SECRET

HEADINGS = {400: "That request could not be understood", 403: "You may not do that here",
            404: "There is no such page", 500: "Something went wrong on our side",
            503: "clinicline is briefly unavailable"}


def leaks(page: str) -> list[str]:
    told = [SECRET, "patient-Okafor", "/fails/", "Traceback", "DatabaseError",
            settings.SECRET_KEY, str(settings.DATABASES["default"]["NAME"]), "DEBUG"]
    return [secret for secret in told if secret in page]


@pytest.mark.urls("tests.support_error_urls")
@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_each_failure_gets_its_styled_page_and_nothing_more(db, status):
    response = Client(raise_request_exception=False).get(f"/fails/{status}/patient-Okafor/")
    page = response.content.decode()
    assert response.status_code == status
    assert HEADINGS[status] in page and "clinicline/site.css" in page
    assert leaks(page) == []


def test_an_unknown_address_is_the_styled_404(db):
    response = Client().get("/no/such/page-Okafor/")
    assert response.status_code == 404
    assert HEADINGS[404] in response.content.decode()
    assert "page-Okafor" not in response.content.decode()


def test_the_500_page_renders_with_the_database_down(django_db_blocker):
    request = RequestFactory().get("/p/riverside/inbox/")
    with django_db_blocker.block():  # any query now raises
        response = views.server_error(request)
    assert response.status_code == 500
    assert HEADINGS[500] in response.content.decode()


def test_the_unavailable_page_is_ready_for_maintenance(django_db_blocker):
    with django_db_blocker.block():
        page = render_to_string("503.html")
        response = views.unavailable(RequestFactory().get("/"))
    assert HEADINGS[503] in page and response.status_code == 503


def test_a_form_posted_without_its_csrf_token_gets_the_styled_403(db):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/",
                                                     {"username": "nurse", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert HEADINGS[403] in page and "CSRF" not in page and leaks(page) == []
