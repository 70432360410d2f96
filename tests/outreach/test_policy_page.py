"""The sending policy page: every member reads Riverside's hours and limits in plain words;
only its practice admin changes them, within what the law allows, audited; and what is
saved is what the sending decision then holds Walter Okafor's messages to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.outreach import decisions
from clinicline.outreach.decision_models import Outcome, SendingPolicy
from clinicline.outreach.kinds import Channel, Purpose, Reason
from clinicline.outreach.templates import Values
from tests.conftest import make_member, phi_in_audit, signed_in
from tests.outreach.support import consents, walter

pytestmark = pytest.mark.django_db

DEFAULTS = {"per_day": "1", "per_week": "3", "window_start": "08:00", "window_end": "21:00"}
# Tuesday 8 December 2026 in Boston: 08:30 and 10:00.
HALF_EIGHT = dt.datetime(2026, 12, 8, 13, 30, tzinfo=dt.UTC)
TEN_AM = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)


def page_url(practice) -> str:
    return reverse("outreach:policy", kwargs={"practice": practice.slug})


def edit_url(practice) -> str:
    return reverse("outreach:policy-edit", kwargs={"practice": practice.slug})


def save(client, practice, **changes):
    return client.post(edit_url(practice), {**DEFAULTS, **changes})


def policy_events():
    return AuditEvent.objects.filter(action=Action.SENDING_POLICY)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_policy_and_only_the_admin_may_change_it(practice, role):
    client = signed_in(make_member(practice, role, f"the-{role}"))
    page = client.get(page_url(practice))
    assert page.status_code == 200
    html = page.content.decode()
    assert "08:00 to 21:00" in html and "At most 1 a day and 3 a week" in html
    assert "Never: these are the defaults" in html
    admin = role == Role.PRACTICE_ADMIN
    assert ('id="policy-form"' in html) is admin
    assert ("The practice admin changes the sending policy" in html) is not admin
    response = save(client, practice, per_week="2")
    assert response.status_code == (302 if admin else 404)
    assert SendingPolicy.objects.exists() is admin
    assert policy_events().exists() is admin


def test_another_practices_admin_gets_404(practice, other_admin):
    client = signed_in(other_admin)
    assert client.get(page_url(practice)).status_code == 404
    assert save(client, practice, per_week="1").status_code == 404
    assert not SendingPolicy.objects.exists()


def test_the_first_save_makes_the_row_and_is_audited(practice, practice_admin):
    assert decisions.policy_for(practice).pk is None  # the defaults, unsaved
    client = signed_in(practice_admin)
    response = save(client, practice, per_week="2", window_start="09:00",
                    window_end="17:30")
    assert response.status_code == 302
    policy = SendingPolicy.objects.get(practice=practice)
    assert (policy.per_day, policy.per_week, policy.window_start, policy.window_end) == (
        1, 2, dt.time(9), dt.time(17, 30))
    assert decisions.policy_for(practice).pk == policy.pk
    event = policy_events().get()
    assert (event.actor_id, event.practice_id, event.object_id) == (
        practice_admin.pk, practice.pk, str(policy.pk))
    assert event.fields == "per_week,window_start,window_end"
    assert event.reason == "1 a day, 2 a week, 09:00-17:30"
    assert phi_in_audit(event, ["Okafor"]) == []

    html = client.get(page_url(practice)).content.decode()
    assert "09:00 to 17:30" in html and "At most 1 a day and 2 a week" in html
    assert "Last changed" in html and " by admin" in html and "Never:" not in html
    assert "Sending policy saved" in html


def test_a_second_change_updates_the_one_row(practice, practice_admin):
    client = signed_in(practice_admin)
    save(client, practice, per_week="2")
    save(client, practice, per_week="2", window_end="20:00")
    assert SendingPolicy.objects.get().window_end == dt.time(20)
    assert [e.fields for e in policy_events()] == ["per_week", "window_end"]


def test_saving_what_is_already_in_force_writes_nothing(practice, practice_admin):
    response = save(signed_in(practice_admin), practice)
    assert response.status_code == 302
    assert not SendingPolicy.objects.exists() and not policy_events().exists()


@pytest.mark.parametrize("bad,message", [
    ({"per_day": "2"}, "FCC&#x27;s healthcare exemption covers at most 1 a day"),
    ({"per_week": "4"}, "FCC&#x27;s healthcare exemption covers at most 3 a week"),
    ({"per_week": "0"}, "at least 1, at most 3"),
    ({"per_day": "-1"}, "at least 1, at most 1"),
    ({"per_week": "two"}, "Give a whole number"),
    ({"per_week": ""}, "This field is required"),
    ({"window_start": "07:30"}, "never go out before 08:00"),
    ({"window_end": "21:30"}, "never go out after 21:00"),
    ({"window_start": "17:00", "window_end": "09:00"}, "must close after they open"),
    ({"window_start": "12:00", "window_end": "12:00"}, "must close after they open"),
    ({"window_end": "25:61"}, "Enter a valid time"),
])
def test_bad_input_is_refused_with_why_and_nothing_saved(practice, practice_admin, bad,
                                                         message):
    response = save(signed_in(practice_admin), practice, **bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "Nothing was saved" in html
    assert not SendingPolicy.objects.exists() and not policy_events().exists()


def test_the_page_takes_no_other_methods(practice, practice_admin):
    client = signed_in(practice_admin)
    assert client.post(page_url(practice), DEFAULTS).status_code == 405
    assert client.get(edit_url(practice)).status_code == 405


# --- what a saved policy changes ---------------------------------------------------------

def results(practice, patient, *, at, key):
    return decisions.send(practice, patient, purpose=Purpose.RESULTS_READY, channel=Channel.SMS,
                          reason=Reason.RESULTS, values=Values(), at=at, idempotency_key=key,
                          exempt=True)


@pytest.fixture
def consenting(practice, practice_admin):
    patient = walter(practice)
    consents(patient, practice_admin, purpose="results-ready")
    return patient


def test_a_saved_narrower_window_defers_what_would_have_gone(practice, practice_admin,
                                                             consenting):
    assert results(practice, consenting, at=HALF_EIGHT, key="a").outcome == Outcome.SENT
    save(signed_in(practice_admin), practice, window_start="09:00")
    held = results(practice, consenting, at=HALF_EIGHT + dt.timedelta(days=1), key="b")
    assert (held.outcome, held.reason) == (Outcome.DEFERRED, "quiet-hours")
    assert held.due_at == dt.datetime(2026, 12, 9, 14, 0, tzinfo=dt.UTC)  # 09:00 in Boston


def test_a_saved_lower_weekly_cap_withholds_the_third_message(practice, practice_admin,
                                                              consenting):
    save(signed_in(practice_admin), practice, per_week="2")
    made = [results(practice, consenting, at=TEN_AM + dt.timedelta(days=d), key=f"r{d}")
            for d in range(3)]
    assert [(d.outcome, d.reason) for d in made] == [
        (Outcome.SENT, ""), (Outcome.SENT, ""), (Outcome.WITHHELD, "frequency-cap")]
