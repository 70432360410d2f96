"""A practice admin edits the greeting in a real browser, previews it, saves it, and an
agent's console says it; the scripts page and the binder fit a phone and a laptop."""

from __future__ import annotations

import pytest

from clinicline.accounts.roles import Role
from clinicline.intake.service import scripts_for
from tests.conftest import make_member, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check

GREETING = "Good evening, {practice} answering service. How can I help you tonight?"


@pytest.mark.django_db(transaction=True)
def test_an_admin_edits_previews_and_saves_a_greeting_the_console_then_says(live_server,
                                                                             open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    agent = make_member(practice, Role.AGENT, "agent")
    said = GREETING.format(practice=practice.name)

    page = open_page()
    log_in(page, live_server.url, admin)
    scripts_page = f"{live_server.url}/p/{practice.slug}/intake/scripts/"
    page.goto(scripts_page)
    problems = check(page, "scripts")
    for field in ("greeting_open.en", "greeting_after_hours.en"):
        page.fill(f"textarea[name='{field}']", GREETING)
    page.click("button[name=preview]")
    assert page.locator("h2", has_text="Preview: not saved yet").is_visible()
    assert page.locator("#script-greeting_after_hours").inner_text().count(said) == 1
    assert scripts_for(practice).version == 1  # a preview saves nothing

    page.click("button[name=save]")
    page.wait_for_url(scripts_page)
    assert page.get_by_text("Scripts version 2 are now in force.").is_visible()
    assert scripts_for(practice).version == 2
    page.goto(f"{scripts_page}binder/")
    problems += check(page, "scripts-binder")
    assert said in page.inner_text("main")

    desk = open_page()
    log_in(desk, live_server.url, agent)
    desk.goto(f"{live_server.url}/p/{practice.slug}/console/")
    assert said in desk.inner_text(".script")
    desk.click("a[lang=es]")
    assert "Gracias por llamar a" in desk.inner_text(".script")
    assert f"In English: {said}" in desk.inner_text(".script")
    problems += check(desk, "console-spanish")
    assert problems == []
