"""Tenancy is absolute: a member of one practice gets 404 for every route of another's.

The matrix is built from the URL configuration itself, so a new practice route that
forgets its scoping, or takes an id this file does not know how to make, fails here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinicline.accounts import staff
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import contacts
from clinicline.oncall.models import ContactMethod, Schedule
from clinicline.outreach.appointment_models import AppointmentUpload, ReminderRun
from clinicline.outreach.models import Template, TemplateVersion
from clinicline.practices.models import Practice, Team
from clinicline.simulator.phones import phone_token
from clinicline.triage.models import Protocol
from clinicline.triage.service import default_document
from tests.conftest import make_member, make_patient, signed_in

PRACTICE_PREFIX = "p/<slug:practice>/"

# How to make, inside a practice, the object a URL argument names.
MAKERS: dict[str, Callable[[Practice], object]] = {
    "patient_id": lambda p: make_patient(p, "Walter", "Okafor", dt.date(1958, 4, 2),
                                         "+16175550142").pk,
    # A virtual phone in the simulator: the opaque token of a patient's number.
    "phone": lambda p: phone_token(p, make_patient(p, "Priya", "Raman", dt.date(1990, 6, 8),
                                                   "+12125550187").contact_points.get().value),
    # A triage protocol version. Versions count from 1 in every practice, so each practice
    # gets a number no other has, or "own slug, foreign version" would find its own row.
    "version": lambda p: Protocol.objects.create(practice=p, version=100 + p.pk,
                                                 document=default_document()).version,
    # A routine scheduling message: one that several roles of the practice may open.
    "message_id": lambda p: take_message(p, call_types_for(p).get("scheduling"), {
        "patient_name": "Priya Raman", "callback_number": "+12125550187"}).pk,
    # A team queue. Every practice has a "clinical" team, so each gets a slug of its own, or
    # "own slug, foreign team" would find the practice's own queue.
    "team": lambda p: Team.objects.create(practice=p, slug=f"wound-care-{p.pk}",
                                          name="Wound care").slug,
    # A member of the practice, for its admin's staff pages.
    "user_id": lambda p: make_member(p, Role.NURSE, f"staff-{p.slug}").pk,
    # A contact method and a rule of the practice's nurse: only its owner reaches them.
    # The rule is on in-app, which the method's removal leaves.
    "method_id": lambda p: contacts.add(nurse_of(p), ContactMethod.Kind.SMS,
                                        f"+1617555{p.pk:04d}").pk,
    # A new member's link to set a first password (not a practice page: for the fuzzer).
    "uidb64": lambda p: urlsafe_base64_encode(force_bytes(invitee(p).pk)),
    "token": lambda p: staff.invite_tokens.make_token(invitee(p)),
    "rule_id": lambda p: contacts.set_rule(nurse := nurse_of(p), contacts.methods(nurse)[0],
                                           60).pk,
    # An on-call schedule (ids are unique across practices).
    "schedule_id": lambda p: Schedule.objects.create(practice=p, name="After hours").pk,
    # An outreach template's kind (EVERY_PRACTICE), and a draft version of it numbered as
    # no other practice's is (versions count from 1 in every practice).
    "purpose": lambda p: "appointment-reminders",
    "channel": lambda p: "sms",
    "language": lambda p: "en",
    "number": lambda p: TemplateVersion.objects.create(
        template=Template.objects.get_or_create(practice=p, purpose="appointment-reminders",
                                                channel="sms", language="en")[0],
        number=100 + p.pk, body="{practice}: call {callback_number}").number,
    # An appointments file held for its preview: only the member who uploaded it opens it.
    "upload": lambda p: AppointmentUpload.objects.create(practice=p, created_by=front_desk_of(p),
                                                         rows=[]).pk,
    # A reminder run (its reminders were those due when it started: none here).
    "run": lambda p: ReminderRun.objects.create(practice=p, as_of=timezone.now()).pk,
}


def invitee(practice: Practice) -> User:
    user, made = User.objects.get_or_create(username=f"invitee-{practice.slug}")
    if made:
        user.set_unusable_password()
        user.save()
    return user


def nurse_of(practice: Practice):
    """The practice's first nurse (the matrix's own, made before the objects), or a new one
    where there is none yet (the form fuzzer makes the objects first)."""
    first = Membership.objects.filter(practice=practice, role=Role.NURSE).order_by("pk").first()
    return first.user if first else make_member(practice, Role.NURSE, f"nurse-{practice.slug}")


def front_desk_of(practice: Practice) -> User:
    """The practice's first front-desk member, as ``nurse_of``."""
    first = (Membership.objects.filter(practice=practice, role=Role.FRONT_DESK)
             .order_by("pk").first())
    return (first.user if first
            else make_member(practice, Role.FRONT_DESK, f"front-desk-{practice.slug}"))


def walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry

# URL parts that name something every practice has (a kind of message), not a row of one
# practice: under another practice's slug they rightly find that practice's own.
EVERY_PRACTICE = {"purpose", "channel", "language"}


def practice_routes() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in walk(get_resolver().url_patterns)
            if route.startswith(PRACTICE_PREFIX)]


def fill(route: str, practice: Practice, objects: dict[str, object]) -> str:
    path = route.replace("<slug:practice>", practice.slug)
    for name, value in objects.items():
        for converter in ("uuid", "int", "slug", "str"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    assert "<" not in path, f"{route}: the tenancy matrix cannot fill {path}; add a MAKER"
    return "/" + path


def test_there_are_practice_routes_to_check():
    assert len(practice_routes()) >= 6


@pytest.mark.parametrize("route,pattern", practice_routes(), ids=lambda v: str(v)[:60])
def test_every_practice_route_is_a_member_view(route, pattern):
    view = pattern.callback
    assert getattr(view, "member_view", False) or getattr(
        getattr(view, "view_class", None), "member_view", False), (
        f"{route} is not wrapped in accounts.access.member_view")


@pytest.mark.django_db
# The matrix takes minutes: members signed in at its start must not meet the re-auth
# prompt (a 302, which re-auth then answers with the same 404) halfway through it.
@override_settings(REAUTH_MINUTES=120)
def test_no_route_crosses_practices():
    home, away = Practice.objects.create(slug="riverside", name="Riverside",
                                         time_zone="America/New_York",
                                         callback_number="+16175550100"), \
        Practice.objects.create(slug="lakeside", name="Lakeside", time_zone="America/Chicago",
                                callback_number="+13125550100")
    routes = practice_routes()
    needed = {name for route, _ in routes for name in MAKERS if f":{name}>" in route}
    home_clients = {role: signed_in(make_member(home, role, f"home-{role}")) for role in Role}
    away_clients = {role: signed_in(make_member(away, role, f"away-{role}")) for role in Role}
    home_objects = {name: MAKERS[name](home) for name in needed}
    away_objects = {name: MAKERS[name](away) for name in needed}

    leaks = []
    for route, _ in routes:
        reachable = False
        for role in Role:
            own = fill(route, home, home_objects)
            for method in ("get", "post"):
                # Positive control: some home role reaches each route, so 404s below mean
                # "not yours", not "broken URL".
                reachable |= getattr(home_clients[role], method)(own).status_code != 404
                away_client = away_clients[role]
                crossed = [own]
                if any(f":{name}>" in route for name in MAKERS.keys() - EVERY_PRACTICE):
                    crossed.append(fill(route, away, home_objects))  # own slug, foreign id
                for url in crossed:
                    status = getattr(away_client, method)(url).status_code
                    if status != 404:
                        leaks.append(f"{method.upper()} {url} as lakeside {role}: {status}")
        assert reachable, f"{route}: no role of the practice itself can reach it"
        # And the away practice's own objects stay reachable through its own slug.
        assert any(away_clients[r].get(fill(route, away, away_objects)).status_code
                   != 404 for r in Role), route
    assert leaks == []
