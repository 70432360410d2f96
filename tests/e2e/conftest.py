"""A real browser (Debian's chromium, driven by Playwright) against a live server.

Playwright's sync API runs an event loop in the test's thread, which Django's ORM takes for
an async context; the test talks to the database between browser steps, never from a
coroutine, so the check is switched off while the browser runs, and only then.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from clinicline.accounts.models import User
from tests.conftest import PASSWORD, current_code

CHROMIUM = os.environ.get("CLINICLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator:
    """A fresh browser context (its own cookies: one person at one desk) per call."""
    contexts = []

    def make() -> Page:
        context = browser.new_context()
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, base_url: str, user: User) -> None:
    """Through the real pages: password, then the authenticator's current code."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/accounts/mfa/**")
    page.fill("#id_code", current_code(user))
    page.press("#id_code", "Enter")
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, f"login did not finish: {page.url}"
