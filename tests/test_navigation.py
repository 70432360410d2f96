"""The navigation bar: every member sees exactly the pages their role may open.

Built from the URL configuration: every practice page that takes no argument but the
practice is a ``member_view(perm)``; for each role, each one its perm allows and that opens
(200) must be on the bar (or below one that is, listed here with why), and every link on
the bar must open.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, Role, allows
from clinicline.inbox.routing import DEFAULT_TEAMS, default_team
from clinicline.inbox.visibility import queues_for
from clinicline.navigation import PAGES, view_perm
from clinicline.practices.models import GatewayAccount, Practice, Team
from tests.conftest import make_member, make_practice, signed_in
from tests.test_tenancy import PRACTICE_PREFIX, practice_routes

pytestmark = pytest.mark.django_db

# Pages a role may open that are reached from a page on the bar, not from the bar itself.
BELOW_THE_BAR = {
    "patients/new/": "a form, from Patients",
    "agreements/new/": "a form, from Business associate agreements",
    "compliance/audit/export/": "a download, from the Audit trail",
    "staff/new/": "a form, from Staff",
    "intake/scripts/scripts.yaml": "a download, from Scripts",
    "intake/scripts/binder/": "a printable page, from Scripts",
    "intake/scripts/binder.pdf": "a download, from Scripts and Message templates",
    "triage/default/": "a comparison, from the Triage protocol",
    "appointments/import/": "a form, from Appointments",
}
NAV = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def teams(practice) -> list[Team]:
    """The practice's default team queues, and one it added itself."""
    return [*(default_team(practice, slug) for slug in DEFAULT_TEAMS),
            Team.objects.create(practice=practice, slug="wound-care", name="Wound care")]


def bar(client: Client, practice: Practice) -> list[str]:
    """The hrefs on the bar of the practice's home page, as the member sees it."""
    response = client.get(reverse("practices:home", kwargs={"practice": practice.slug}))
    assert response.status_code == 200
    found = NAV.search(response.content.decode())
    return HREF.findall(found.group(0)) if found else []


def pages_without_arguments() -> list[tuple[str, Perm | None]]:
    """(route after the practice, the perm its member_view checks) for each such page."""
    return [(route.removeprefix(PRACTICE_PREFIX), pattern.callback.member_perm)
            for route, pattern in practice_routes() if route.count("<") == 1]


def test_every_entry_names_a_member_view_and_takes_its_perm_from_it():
    assert len(PAGES) >= 12
    for page in PAGES:
        assert page.perm is view_perm(page.url_name)
    assert {p.url_name: p.perm for p in PAGES}["audit:events"] is Perm.VIEW_AUDIT
    assert {p.url_name: p.perm for p in PAGES}["practices:settings"] is Perm.MANAGE_PRACTICE


@pytest.mark.parametrize("role", list(Role))
def test_the_bar_shows_exactly_the_pages_the_role_may_open(practice, teams, role):
    member = make_member(practice, role, f"the-{role}")
    client = signed_in(member)
    shown = bar(client, practice)
    assert shown, f"{role} sees no bar"
    for href in shown:
        assert client.get(href).status_code == 200, f"{role}: {href} is on the bar but refuses"

    home = f"/p/{practice.slug}/"
    missing = []
    for route, perm in pages_without_arguments():
        if (perm is not None and not allows(role, perm)) or route in BELOW_THE_BAR:
            continue
        if client.get(home + route).status_code == 200 and home + route not in shown:
            missing.append(route)
    assert missing == [], f"{role} may open these pages, but its bar does not offer them"

    queues = {reverse("inbox:queue", kwargs={"practice": practice.slug, "team": t.slug})
              for t in queues_for(Membership.objects.get(user=member))}
    assert queues <= set(shown)


def test_the_biller_sees_the_billing_queue_and_no_clinical_or_settings_page(practice, teams,
                                                                           biller):
    shown = " ".join(bar(signed_in(biller), practice))
    assert "/inbox/q/billing/" in shown
    for never in ("/inbox/q/clinical/", "/inbox/q/wound-care/", "/settings/", "/audit/",
                  "/console/", "/gateway/"):
        assert never not in shown


def test_the_page_itself_is_marked_current(practice, compliance_officer):
    audit = reverse("audit:events", kwargs={"practice": practice.slug})
    text = signed_in(compliance_officer).get(audit).content.decode()
    assert f'<a href="{audit}" aria-current="page">Audit trail</a>' in text


@pytest.mark.parametrize("gateway", ["none, no loopback", "live"])
def test_the_simulator_is_offered_only_where_it_runs(practice, nurse, gateway):
    simulator = reverse("simulator:phones", kwargs={"practice": practice.slug})
    assert simulator in bar(signed_in(nurse), practice)
    if gateway == "live":
        GatewayAccount.objects.create(practice=practice, account_sid="AC" + "0" * 32,
                                      test_mode=False, phone_number="+16175550100")
        assert simulator not in bar(signed_in(nurse), practice)
    else:
        with override_settings(LOOPBACK_GATEWAY=False):
            assert simulator not in bar(signed_in(nurse), practice)


def test_a_member_of_two_practices_can_switch(practice, nurse):
    lakeside = make_practice("lakeside", "Lakeside Pediatrics")
    Membership.objects.create(user=nurse, practice=lakeside, role=Role.PROVIDER)
    text = signed_in(nurse).get(reverse("practices:home",
                                        kwargs={"practice": practice.slug})).content.decode()
    switch = re.search(r'<details class="menu switch">.*?</details>', text, re.S).group(0)
    assert "Riverside Family Medicine</summary>" in switch
    assert 'href="/p/lakeside/"' in switch and "Lakeside Pediatrics" in switch
