"""The appointment pages at 390 px and 1366 px, photographed (var/screenshots/) and
failing if anything runs off the side: the import form, a preview with bad lines, the
upcoming list, the reminders page and a run's progress bar, which the browser refreshes by
itself until the worker has finished."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from clinicline.accounts.roles import Role
from clinicline.outreach import reminders
from clinicline.outreach.appointment_models import ReminderRun, RunState
from tests.conftest import make_member, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import OVERFLOW, SCREENSHOTS, SPILL, WIDTHS
from tests.outreach.support import dr_osei, walter


def shoot(page: Page, name: str) -> list[str]:
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"appointments-{name}-{width_name}.png",
                        full_page=True)
        if (extra := page.evaluate(OVERFLOW)) > 0 or (extra := page.evaluate(SPILL)) > 0:
            problems.append(f"{name} runs {extra} px off a {width} px screen")
    return problems


def schedule_file(tmp_path: Path) -> Path:
    day = (timezone.now() + dt.timedelta(days=3)).date().isoformat()
    later = (timezone.now() + dt.timedelta(days=12)).date().isoformat()
    path = tmp_path / "schedule.csv"
    path.write_text(
        "external_id,mrn,provider,starts_at,location\n"
        f"A-1001,RFM-100142,Dr. Amara Osei,{day} 09:30,Main St office\n"
        f"A-1002,RFM-100142,Dr. Amara Osei,{later} 14:00,Main St office\n"
        f"A-1003,RFM-999999,Dr. Amara Osei,{later} 15:00,Main St office\n"
        f"A-1004,RFM-100142,Dr. Marcus Featherstonehaugh-Villanueva,{later} 16:00,Elm St\n"
        "A-1005,RFM-100142,Dr. Amara Osei,tomorrow morning,Main St office\n")
    return path


@pytest.mark.django_db(transaction=True)
def test_the_import_preview_and_run_pages_fit_a_phone_and_a_laptop(live_server, open_page,
                                                                   tmp_path):
    practice = make_practice()
    walter(practice)
    dr_osei(practice)
    fatima = make_member(practice, Role.FRONT_DESK, "fatima")
    home = f"{live_server.url}/p/{practice.slug}/appointments"
    page = open_page()
    log_in(page, live_server.url, fatima)
    problems = []

    page.goto(home + "/import/")
    problems += shoot(page, "import")
    page.set_input_files("input[type=file]", schedule_file(tmp_path))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url("**/import/*/")
    assert "Lines that cannot be imported" in page.content()
    problems += shoot(page, "preview")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(home + "/")
    problems += shoot(page, "upcoming")

    page.goto(home + "/reminders/")
    problems += shoot(page, "reminders")
    page.get_by_role("button", name="Send 1 due reminder now").click()
    page.wait_for_url("**/reminders/runs/*/")
    problems += shoot(page, "run")
    run = ReminderRun.objects.get()
    assert run.state == RunState.QUEUED
    reminders.advance_runs()  # the worker's pass
    # No reload here: the page refreshes itself (a meta refresh) until the run is done.
    page.get_by_text("Finished").wait_for(timeout=10_000)
    problems += shoot(page, "run-done")
    assert problems == []
