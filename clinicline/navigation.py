"""The navigation bar: the pages a member's role may open in the current practice.

One table, ``PAGES``. An entry names a page by its URL name only: whether a role may open
it is read from the page's own ``member_view(perm)``, so the bar can neither offer a page
its view refuses nor hide one it allows. The bar is built lazily, on the first look from a
template, so a page that shows no bar (an error page) asks the database nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import resolve, reverse
from django.utils.functional import SimpleLazyObject, cached_property

from clinicline.accounts.access import is_member_view
from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, allows
from clinicline.inbox.visibility import queues_for
from clinicline.practices.models import Practice
from clinicline.simulator.phones import SimulatorOff, simulator_account

WORK, INBOX, PRACTICE, COMPLIANCE = "", "Inbox", "Practice", "Compliance"


def always(practice: Practice) -> bool:
    return True


def simulator_on(practice: Practice) -> bool:
    """The simulator runs only where nothing reaches a real phone (never a live gateway,
    never in production)."""
    if settings.PRODUCTION:
        return False
    try:
        simulator_account(practice)
    except SimulatorOff:
        return False
    return True


@dataclass(frozen=True)
class Page:
    label: str
    url_name: str
    menu: str = WORK                               # WORK: on the bar itself
    when: Callable[[Practice], bool] = always      # beyond the role: is the page there at all

    @property
    def perm(self) -> Perm | None:
        return view_perm(self.url_name)


PAGES: tuple[Page, ...] = (
    Page("Home", "practices:home"),
    Page("Take a call", "console:call"),
    Page("Return call", "console:return-call"),
    Page("Patients", "patients:search"),
    Page("Appointments", "appointments:upcoming"),
    Page("Reminders", "appointments:reminders", PRACTICE),
    Page("How to reach me", "oncall:contacts"),
    Page("All queues", "inbox:index", INBOX),
    Page("On call", "oncall:calendar"),
    Page("Office hours", "practices:hours", PRACTICE),
    Page("Call types", "intake:call-types", PRACTICE),
    Page("Scripts", "intake:scripts", PRACTICE),
    Page("Message templates", "outreach:templates", PRACTICE),
    Page("Sending policy", "outreach:policy", PRACTICE),
    Page("Routing", "inbox:routing", PRACTICE),
    Page("Triage protocol", "triage:protocol", PRACTICE),
    Page("Practice settings", "practices:settings", PRACTICE),
    Page("Staff", "staff:list", PRACTICE),
    Page("Escalation policy", "oncall:policy", PRACTICE),
    Page("Telephony gateway", "gateway_settings:settings", PRACTICE),
    Page("Phone simulator", "simulator:phones", PRACTICE, when=simulator_on),
    Page("Audit trail", "audit:events", COMPLIANCE),
    Page("Business associate agreements", "practices:agreements", COMPLIANCE),
)


@functools.cache
def view_perm(url_name: str) -> Perm | None:
    """The permission the page's ``member_view`` checks (None: any member)."""
    view = resolve(reverse(url_name, kwargs={"practice": "any"})).func
    if not is_member_view(view):
        raise ImproperlyConfigured(f"{url_name} is not a member_view page")
    return view.member_perm


def may_open(role: str, page: Page) -> bool:
    return page.perm is None or allows(role, page.perm)


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class Menu:
    label: str
    links: list[Link]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


class Nav:
    """What the bar shows to this member in this practice."""

    def __init__(self, request: HttpRequest) -> None:
        self.membership: Membership | None = getattr(request, "membership", None)
        self.here = request.path

    def link(self, label: str, href: str) -> Link:
        return Link(label, href, href == self.here)

    @cached_property
    def pages(self) -> list[Page]:
        if self.membership is None:
            return []
        practice = self.membership.practice
        return [page for page in PAGES
                if may_open(self.membership.role, page) and page.when(practice)]

    def _links(self, menu: str) -> list[Link]:
        slug = self.membership.practice.slug if self.membership else ""
        return [self.link(page.label, reverse(page.url_name, kwargs={"practice": slug}))
                for page in self.pages if page.menu == menu]

    def _queues(self) -> list[Link]:
        if self.membership is None:
            return []
        slug = self.membership.practice.slug
        return [self.link(team.name, reverse("inbox:queue", kwargs={"practice": slug,
                                                                     "team": team.slug}))
                for team in queues_for(self.membership)]

    @cached_property
    def links(self) -> list[Link]:
        """The bar's own links (the member's daily work)."""
        return self._links(WORK)

    @cached_property
    def menus(self) -> list[Menu]:
        """The drop-down menus, each only when it holds a link."""
        menus = [Menu(INBOX, self._links(INBOX) + self._queues()),
                 Menu(PRACTICE, self._links(PRACTICE)),
                 Menu(COMPLIANCE, self._links(COMPLIANCE))]
        return [menu for menu in menus if menu.links]

    @cached_property
    def practices(self) -> list[Practice]:
        """The member's other practices, to switch to."""
        if self.membership is None:
            return []
        others = (Membership.objects.filter(user_id=self.membership.user_id)
                  .exclude(practice_id=self.membership.practice_id)
                  .select_related("practice").order_by("practice__name"))
        return [m.practice for m in others]


def nav(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``nav``, built only if a template looks at it."""
    return {"nav": SimpleLazyObject(lambda: Nav(request))}
