"""The compliance page: who may see the trail, what each filter shows, paging, the chain
check, and the CSV export (the officer's alone, after re-authentication, itself audited)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.audit.service import record
from clinicline.practices.models import Practice
from tests.conftest import make_member, make_patient, signed_in

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def url(practice: Practice, name: str = "audit:events") -> str:
    return reverse(name, kwargs={"practice": practice.slug})


def shown(response: HttpResponse) -> list[int]:
    assert response.status_code == 200, response.content.decode()[:500]
    return [e.seq for e in response.context["page"]]


def exported(response: StreamingHttpResponse) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def admin(practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")


@pytest.fixture
def officer(compliance_officer) -> Client:
    return signed_in(compliance_officer)


# --- who may look ------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.BILLING, Role.NURSE, Role.AGENT, Role.PROVIDER])
def test_staff_without_audit_rights_get_404(practice, role):
    client = signed_in(make_member(practice, role))
    assert client.get(url(practice)).status_code == 404
    assert client.get(url(practice, "audit:export")).status_code == 404
    assert client.post(url(practice, "audit:verify")).status_code == 404
    assert not AuditEvent.objects.filter(action__in=[Action.AUDIT_VIEW, Action.EXPORT]).exists()


def test_a_practice_admin_may_view_but_not_export_or_verify(practice, admin):
    client = signed_in(admin)
    page = client.get(url(practice))
    assert page.status_code == 200
    assert "Export these events" not in page.content.decode()
    assert client.get(url(practice, "audit:export")).status_code == 404
    assert client.post(url(practice, "audit:verify")).status_code == 404


def test_viewing_the_trail_is_itself_audited(practice, officer, compliance_officer):
    officer.get(url(practice), {"action": Action.VIEW})
    event = AuditEvent.objects.get(action=Action.AUDIT_VIEW)
    assert (event.actor_id, event.practice_id) == (compliance_officer.pk, practice.pk)
    assert event.reason == "filters: action=phi.view"


def test_another_practices_officer_sees_nothing_of_this_practice(practice, other_practice,
                                                                  nurse, patient):
    record(Action.VIEW, actor=nurse, practice=practice, patient=patient)
    theirs = make_member(other_practice, Role.COMPLIANCE_OFFICER, "lakeside-officer")
    client = signed_in(theirs)
    ours = set(AuditEvent.objects.filter(practice_id=practice.pk).values_list("seq", flat=True))
    ours |= set(AuditEvent.objects.filter(actor_id=nurse.pk).values_list("seq", flat=True))
    assert ours
    assert client.get(url(practice)).status_code == 404
    assert client.get(url(practice, "audit:export")).status_code == 404
    assert not ours & set(shown(client.get(url(other_practice))))
    rows = exported(client.get(url(other_practice, "audit:export")))
    assert rows and not ours & {int(r["seq"]) for r in rows}
    assert str(patient.pk) not in str(rows)


# --- what the page shows -----------------------------------------------------------------

@pytest.fixture
def trail(practice, other_practice, nurse, agent, compliance_officer, other_admin):
    """Events of this practice, practice-less sign-ins of its members, and the same of
    another practice, two of them either side of midnight in the practice's zone."""
    first, second = make_patient(practice).pk, make_patient(practice, "Ada", "Obi").pk
    with time_machine.travel(dt.datetime(2025, 3, 1, 23, 30, tzinfo=NEW_YORK), tick=False):
        late = record(Action.VIEW, actor=nurse, practice=practice, patient=first)
    with time_machine.travel(dt.datetime(2025, 3, 2, 0, 30, tzinfo=NEW_YORK), tick=False):
        early = record(Action.UPDATE, actor=agent, practice=practice, patient=second)
    return {
        "late": late.seq, "early": early.seq, "first": first, "second": second,
        "login": record(Action.LOGIN, actor=nurse).seq,
        "other_login": record(Action.LOGIN, actor=other_admin).seq,
        "other_view": record(Action.VIEW, actor=other_admin, practice=other_practice).seq,
        "nobody": record(Action.LOGIN_FAILED, outcome=Outcome.FAILURE).seq,
    }


def test_unfiltered_the_page_shows_the_practice_and_its_members_sign_ins(
        practice, officer, trail, nurse, agent, compliance_officer):
    members = {nurse.pk, agent.pk, compliance_officer.pk}
    expected = sorted((e.seq for e in AuditEvent.objects.all()
                       if e.practice_id == practice.pk
                       or (e.practice_id is None and e.actor_id in members)), reverse=True)
    seqs = shown(officer.get(url(practice)))
    assert seqs == expected  # newest first; and the view just recorded is not on it
    assert {trail["late"], trail["early"], trail["login"]} <= set(seqs)
    assert not {trail["other_login"], trail["other_view"], trail["nobody"]} & set(seqs)


def test_filter_by_actor(practice, officer, trail, nurse):
    assert shown(officer.get(url(practice), {"actor": nurse.pk})) == \
        [trail["login"], trail["late"]] + sorted(
            AuditEvent.objects.filter(actor_id=nurse.pk, seq__lt=trail["late"])
            .values_list("seq", flat=True), reverse=True)


def test_the_actor_must_be_a_member_of_the_practice(practice, officer, trail, other_admin):
    page = officer.get(url(practice), {"actor": other_admin.pk})
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()


def test_filter_by_patient(practice, officer, trail):
    seqs = shown(officer.get(url(practice), {"patient": str(trail["second"])}))
    assert trail["early"] in seqs and trail["late"] not in seqs
    assert all(e.patient_id == str(trail["second"])
               for e in AuditEvent.objects.filter(seq__in=seqs))


def test_filter_by_action(practice, officer, trail):
    assert shown(officer.get(url(practice), {"action": Action.UPDATE})) == [trail["early"]]
    assert trail["login"] in shown(officer.get(url(practice), {"action": Action.LOGIN}))


def test_dates_are_the_practices_days(practice, officer, trail):
    """23:30 and 00:30 in New York are the same day in UTC, and different days here."""
    assert shown(officer.get(url(practice), {"since": "2025-03-01", "until": "2025-03-01"})) \
        == [trail["late"]]
    assert shown(officer.get(url(practice), {"since": "2025-03-02", "until": "2025-03-02"})) \
        == [trail["early"]]
    assert shown(officer.get(url(practice), {"until": "2025-02-28"})) == []
    assert trail["early"] not in shown(officer.get(url(practice), {"since": "2025-03-03"}))


@pytest.mark.parametrize("params,message", [
    ({"since": "yesterday"}, "Enter a date as YYYY-MM-DD."),
    ({"until": "2025-02-30"}, "Enter a date as YYYY-MM-DD."),
    ({"since": "2025-03-02", "until": "2025-03-01"}, "The end date is before the start date."),
    # The day after the last day of the calendar is no date: the bound comes first.
    ({"until": "9999-12-31"}, "Enter a date up to 2999-12-31."),
    ({"since": "0001-01-01"}, "Enter a date from 1900-01-01 on."),
    ({"patient": "Walter Okafor"}, "Enter a patient id (a UUID)"),
    ({"action": "phi.peek"}, "Select a valid choice"),
])
def test_bad_filters_are_explained_not_crashed_on(practice, officer, params, message):
    page = officer.get(url(practice), params)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not AuditEvent.objects.filter(action=Action.AUDIT_VIEW).exists()


def test_pages_of_a_hundred_keep_their_filters(practice, officer, nurse):
    for _ in range(230):
        record(Action.VIEW, actor=nurse, practice=practice)
    first = officer.get(url(practice), {"action": Action.VIEW})
    assert len(shown(first)) == 100
    assert "?action=phi.view&amp;page=2" in first.content.decode()
    third = officer.get(url(practice), {"action": Action.VIEW, "page": 3})
    assert len(shown(third)) == 30
    assert shown(first)[0] > shown(third)[0]
    assert shown(officer.get(url(practice), {"page": "last"}))  # a bad page number is no 500


# --- the chain check ---------------------------------------------------------------------

def test_the_officer_verifies_the_chain_on_demand(practice, officer, nurse):
    events = [record(Action.VIEW, actor=nurse, practice=practice) for _ in range(3)]
    assert officer.get(url(practice, "audit:verify")).status_code == 405
    page = officer.post(url(practice, "audit:verify"), follow=True)
    assert "Chain intact" in page.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET ip = %s WHERE id = %s",  # noqa: S608
                       ["10.9.9.9", events[1].pk])
    page = officer.post(url(practice, "audit:verify"), follow=True)
    assert f"Chain broken at #{events[1].seq}: it was changed" in page.content.decode()


# --- export ------------------------------------------------------------------------------

def test_export_asks_the_officer_to_reauthenticate_first(practice, officer):
    session = officer.session
    del session["reauth_at"]
    session.save()
    target = f"{url(practice, 'audit:export')}?action=phi.view"
    response = officer.get(target)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:reauth"))
    assert "next=" in response.url
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_export_sends_the_filtered_trail_and_records_it_with_its_size(practice, officer, trail,
                                                         compliance_officer):
    response = officer.get(url(practice, "audit:export"), {"action": Action.VIEW})
    assert "attachment" in response["Content-Disposition"]
    assert not hasattr(response, "content")  # sent from a file, not built as one string
    rows = exported(response)
    assert [int(r["seq"]) for r in rows] == [trail["late"]]
    assert rows[0]["patient_id"] == str(trail["first"])
    assert rows[0]["at_local"] == "2025-03-01T23:30:00-05:00"
    assert rows[0]["hash"] == AuditEvent.objects.get(seq=trail["late"]).hash
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.actor_id, event.practice_id) == (compliance_officer.pk, practice.pk)
    assert event.reason == "filters: action=phi.view; 1 events"


def test_export_of_everything_is_oldest_first_and_leaves_out_its_own_event(practice, officer,
                                                                           trail):
    seqs = [int(r["seq"]) for r in exported(officer.get(url(practice, "audit:export")))]
    assert seqs == sorted(seqs) and trail["early"] in seqs
    assert AuditEvent.objects.get(action=Action.EXPORT).seq not in seqs


def test_export_defuses_spreadsheet_formulas(practice, officer, nurse):
    client = Client(HTTP_USER_AGENT='=HYPERLINK("http://evil.example","x")')
    record(Action.LOGIN_FAILED, actor=nurse, request=client.get("/").wsgi_request,
           outcome=Outcome.FAILURE)
    rows = exported(officer.get(url(practice, "audit:export"),
                                {"action": Action.LOGIN_FAILED}))
    assert rows[0]["user_agent"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"


@pytest.mark.parametrize("since,until", [("soon", ""), ("", "9999-12-31")])
def test_export_with_bad_filters_goes_back_to_the_page(practice, officer, since, until):
    response = officer.get(url(practice, "audit:export"), {"since": since, "until": until})
    assert response.status_code == 302
    assert response.url == f"{url(practice)}?since={since}&until={until}"
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_export_is_recorded_after_its_last_row(practice, officer, trail):
    seqs = [int(r["seq"]) for r in exported(officer.get(url(practice, "audit:export")))]
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.seq > max(seqs) and event.reason == f"filters: none; {len(seqs)} events"


def test_an_export_that_fails_half_way_is_not_recorded(practice, officer, trail):
    """The event says an export was made: one that broke before its end was not."""
    with mock.patch("clinicline.audit.export._row", autospec=True,
                    side_effect=[["a row"], OSError("disk full")]):
        with pytest.raises(OSError, match="disk full"):
            officer.get(url(practice, "audit:export"))
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
