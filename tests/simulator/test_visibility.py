"""Who sees which virtual phone: every role × every kind of phone, on the list page, the
phone's page and its actions. A phone a member may not see is a 404, as a missing one is,
and nothing is sent or logged from it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.simulator import calls, history
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.phones import phone_token
from tests.conftest import make_member, make_patient, signed_in

WALTER = "+16175550142"          # a patient, who texted about a stroke
ELENA = "+16175550199"           # a restricted record (a member of staff, say)
STRANGER = "+12025550199"        # not on file: opened in the simulator
COLLEAGUE = "+16175550111"       # Dr. Osei's profile phone
OWN = "+16175550122"             # the member's own profile phone
STROKE = "My husband suddenly cannot lift his arm and his face is drooping"
PHONES = {"patient": WALTER, "restricted": ELENA, "not on file": STRANGER,
          "own": OWN, "colleague": COLLEAGUE}

# The table of clinicline/simulator/phones.py, written out: which phones each role sees.
#            patient restricted not-on-file own colleague
SEES = {
    Role.NURSE: (True, True, True, True, False),
    Role.PROVIDER: (True, True, True, True, False),
    Role.PRACTICE_ADMIN: (False, False, False, True, True),
    Role.AGENT: (False, False, False, True, False),
    Role.FRONT_DESK: (False, False, False, True, False),
    Role.SCHEDULER: (False, False, False, True, False),
    Role.BILLING: (False, False, False, True, False),
    Role.PRACTICE_MANAGER: (False, False, False, True, False),
    Role.COMPLIANCE_OFFICER: (False, False, False, True, False),
}


def test_the_table_covers_every_role():
    assert set(SEES) == set(Role)


@pytest.fixture
def office(practice: Practice) -> GatewayAccount:
    """A practice in test mode with one phone of each kind, and a stroke text on file."""
    account = GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                            account_sid="AC" + "1" * 32,
                                            auth_token="riverside-test-token")
    make_patient(practice, "Walter", "Okafor", phone=WALTER)
    make_patient(practice, "Elena", "Marsh", phone=ELENA, restricted=True)
    provider = make_member(practice, Role.PROVIDER, "osei")
    provider.first_name, provider.last_name, provider.phone = "Amara", "Osei", COLLEAGUE
    provider.save()
    calls.text_practice(account, WALTER, STROKE)
    history.log_event(practice.pk, STRANGER, history.FROM_PHONE, history.OPEN)
    return account


def member_with_phone(practice: Practice, role: Role) -> User:
    user = make_member(practice, role, f"the-{role}")
    user.phone = OWN
    user.save()
    return user


def phone_url(practice: Practice, number: str, name: str = "phone") -> str:
    return reverse(f"simulator:{name}",
                   kwargs={"practice": practice.slug, "phone": phone_token(practice, number)})


def listing(client: Client, practice: Practice) -> str:
    response = client.get(reverse("simulator:phones", kwargs={"practice": practice.slug}))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_phones_its_work_allows_and_404_for_the_others(
        role, practice, office):
    client = signed_in(member_with_phone(practice, role))
    listed = listing(client, practice)

    for (kind, number), sees in zip(PHONES.items(), SEES[role], strict=True):
        page = client.get(phone_url(practice, number))
        assert page.status_code == (200 if sees else 404), (role, kind)
        assert (number in listed) is sees, (role, kind)
        if not sees:
            assert number not in page.content.decode()
    # What the stroke text said is on the patient's phone, and only there.
    assert STROKE not in listed
    walter = client.get(phone_url(practice, WALTER)).content.decode()
    assert (STROKE in walter) is SEES[role][0]


@pytest.mark.parametrize("role", list(Role))
def test_no_role_acts_from_a_phone_it_may_not_see(role, practice, office):
    client = signed_in(member_with_phone(practice, role))
    before = SimulatorEvent.objects.count(), InboundWebhook.objects.count()

    for (kind, number), sees in zip(PHONES.items(), SEES[role], strict=True):
        if sees:
            continue
        for action in ("text", "call", "keys", "voicemail", "silence", "hang_up"):
            response = client.post(phone_url(practice, number, action),
                                   {"body": "hello", "key": "1", "words": "hi"})
            assert response.status_code == 404, (role, kind, action)

    assert (SimulatorEvent.objects.count(), InboundWebhook.objects.count()) == before


def test_a_practice_admin_texts_from_a_colleagues_phone(practice, office):
    admin = signed_in(member_with_phone(practice, Role.PRACTICE_ADMIN))

    response = admin.post(phone_url(practice, COLLEAGUE, "text"), {"body": "ACK"})

    assert response.status_code == 302
    sent = InboundWebhook.objects.filter(kind=Kind.SMS).order_by("received_at").last()
    assert sent.params["From"] == COLLEAGUE and sent.params["Body"] == "ACK"
    assert "Amara Osei · provider" in listing(admin, practice)


def test_a_nurse_opens_a_new_number_and_a_biller_cannot(practice, office):
    nurse = signed_in(member_with_phone(practice, Role.NURSE))
    biller = signed_in(make_member(practice, Role.BILLING, "biller"))
    open_url = reverse("simulator:open", kwargs={"practice": practice.slug})
    events = SimulatorEvent.objects.count()

    for number in ("(312) 555-0123", "(617) 555-0142"):  # a new number; Walter's
        assert biller.post(open_url, {"number": number}).status_code == 404
    assert SimulatorEvent.objects.count() == events
    assert 'name="number"' not in listing(biller, practice)  # no form to open one

    response = nurse.post(open_url, {"number": "(312) 555-0123"})

    assert response.status_code == 302
    assert response["Location"] == phone_url(practice, "+13125550123")
    assert SimulatorEvent.objects.count() == events + 1


def test_a_member_opens_their_own_number_whatever_their_role(practice, office):
    biller = signed_in(member_with_phone(practice, Role.BILLING))
    response = biller.post(reverse("simulator:open", kwargs={"practice": practice.slug}),
                           {"number": "(617) 555-0122"})
    assert response.status_code == 302 and response["Location"] == phone_url(practice, OWN)


def test_a_household_number_is_the_patients_phone_not_a_staff_phone(practice, office):
    """A biller whose profile phone is also on Walter's record does not see Walter's texts
    through "their own" phone, and the admin does not list it among the staff."""
    biller = make_member(practice, Role.BILLING, "biller")
    biller.phone = WALTER
    biller.save()
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))

    assert signed_in(biller).get(phone_url(practice, WALTER)).status_code == 404
    assert admin.get(phone_url(practice, WALTER)).status_code == 404
    assert WALTER not in listing(admin, practice)


def test_only_the_patients_phones_shown_are_audited_as_views(practice, office):
    listing(signed_in(member_with_phone(practice, Role.BILLING)), practice)
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()

    nurse = member_with_phone(practice, Role.NURSE)
    listing(signed_in(nurse), practice)

    views = AuditEvent.objects.filter(action=Action.VIEW, actor_id=nurse.pk)
    assert views.count() == 2  # Walter's phone and Elena's
    assert {v.fields for v in views} == {"value,given_name,family_name"}
