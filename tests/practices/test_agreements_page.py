"""The BAA registry: the compliance officer and the practice admin see which vendors are
covered; the practice admin records agreements, and each recording is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.practices.models import BusinessAssociateAgreement, Practice, Vendor, current_baa
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db


def today(practice: Practice) -> dt.date:
    return timezone.localdate(timezone=practice.tz)


def days(n: int, practice: Practice) -> dt.date:
    return today(practice) + dt.timedelta(days=n)


@pytest.fixture
def admin(practice: Practice) -> Client:
    return signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))


def agreement(practice: Practice, effective: int, expires: int | None,
              ref: str = "contracts/twilio.pdf") -> BusinessAssociateAgreement:
    return BusinessAssociateAgreement.objects.create(
        practice=practice, vendor=Vendor.objects.get(slug="twilio"),
        signed_on=days(min(effective, 0) - 10, practice), effective_on=days(effective, practice),
        expires_on=None if expires is None else days(expires, practice), document_ref=ref)


def form(practice: Practice, **change: object) -> dict[str, object]:
    return {"vendor": Vendor.objects.get(slug="twilio").pk,
            "signed_on": days(-3, practice).isoformat(),
            "effective_on": days(-1, practice).isoformat(),
            "expires_on": days(364, practice).isoformat(),
            "document_ref": "Compliance drive / BAAs / Twilio 2026.pdf", **change}


def test_the_registry_lists_each_vendor_with_the_standing_of_each_agreement(practice, admin):
    agreement(practice, -800, -400, "contracts/twilio-2024.pdf")
    agreement(practice, -399, 30, "contracts/twilio-2025.pdf")
    agreement(practice, 31, None, "contracts/twilio-2026.pdf")
    page = admin.get(reverse("practices:agreements", kwargs={"practice": practice.slug}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Twilio" in text and "Covered: current agreement" in text
    for ref, state in [("twilio-2024", "expired"), ("twilio-2025", "current"),
                       ("twilio-2026", "not yet in effect")]:
        row = text[text.index(ref) - 400:text.index(ref)]
        assert f"<td>{state}</td>" in row, (ref, state)


def test_a_vendor_without_a_current_agreement_is_flagged(practice, admin):
    agreement(practice, -800, -1)
    text = admin.get(reverse("practices:agreements",
                             kwargs={"practice": practice.slug})).content.decode()
    assert "No current agreement: Twilio may not handle this practice's PHI." in text


def test_the_compliance_officer_reads_the_registry_but_does_not_record(practice,
                                                                        compliance_officer):
    officer = signed_in(compliance_officer)
    listing = officer.get(reverse("practices:agreements", kwargs={"practice": practice.slug}))
    assert listing.status_code == 200
    assert b"Record an agreement" not in listing.content
    url = reverse("practices:agreement_add", kwargs={"practice": practice.slug})
    assert officer.get(url).status_code == 404
    assert officer.post(url, form(practice)).status_code == 404
    assert not BusinessAssociateAgreement.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role
                                  if r not in (Role.PRACTICE_ADMIN, Role.COMPLIANCE_OFFICER)])
def test_other_roles_do_not_see_the_registry(practice, role):
    client = signed_in(make_member(practice, role, f"u-{role}"))
    assert client.get(reverse("practices:agreements",
                              kwargs={"practice": practice.slug})).status_code == 404


def test_the_admin_records_an_agreement_and_it_is_audited(practice, admin):
    assert current_baa(practice, "twilio") is None
    response = admin.post(reverse("practices:agreement_add", kwargs={"practice": practice.slug}),
                          form(practice))
    assert response.status_code == 302
    baa = BusinessAssociateAgreement.objects.get()
    assert (baa.practice, baa.recorded_by.username, baa.expires_on) == \
        (practice, "admin", days(364, practice))
    assert current_baa(practice, "twilio") == baa
    event = AuditEvent.objects.get(action=Action.BAA_CHANGE)
    assert (event.object_id, event.practice_id, event.actor_label) == \
        (str(baa.pk), practice.pk, "admin")
    assert event.reason == (f"twilio: effective {days(-1, practice)}, "
                            f"expires {days(364, practice)}")
    assert "vendor" in event.fields.split(",")


def test_an_agreement_without_an_end_runs_until_terminated(practice, admin):
    admin.post(reverse("practices:agreement_add", kwargs={"practice": practice.slug}),
               form(practice, expires_on=""))
    assert BusinessAssociateAgreement.objects.get().expires_on is None
    assert AuditEvent.objects.get(action=Action.BAA_CHANGE).reason.endswith(
        "expires when terminated")


@pytest.mark.parametrize("change,message", [
    ({"expires_on": "2000-01-01"}, "cannot expire before it takes effect"),
    ({"signed_on": "2999-01-01"}, "cannot be in the future"),
    ({"vendor": ""}, "This field is required"),
    ({"vendor": "99999"}, "Select a valid choice"),
    ({"effective_on": "next tuesday"}, "Enter a valid date"),
    ({"document_ref": ""}, "This field is required"),
    ({"document_ref": "x" * 201}, "at most 200 characters"),
])
def test_bad_input_is_a_clear_400(practice, admin, change, message):
    response = admin.post(reverse("practices:agreement_add", kwargs={"practice": practice.slug}),
                          form(practice, **change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BusinessAssociateAgreement.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.BAA_CHANGE).exists()


@pytest.mark.parametrize("role,links", [
    (Role.PRACTICE_ADMIN, {"Telephony gateway", "Business associate agreements"}),
    (Role.COMPLIANCE_OFFICER, {"Business associate agreements"}),
    (Role.NURSE, set()),
])
def test_the_practice_page_links_to_what_the_role_may_open(practice, role, links):
    client = signed_in(make_member(practice, role, f"u-{role}"))
    text = client.get(reverse("practices:home",
                              kwargs={"practice": practice.slug})).content.decode()
    shown = {link for link in ("Telephony gateway", "Business associate agreements")
             if link in text}
    assert shown == links
