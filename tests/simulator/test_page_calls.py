"""A voice page on the simulator's phone: the practice's call rings the on-call provider's
virtual phone; answered, it asks for the PIN through the real page webhook (signed, as
Twilio's outbound call would be) and takes "press 1"; let the answering machine take it,
and the page goes on escalating."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.oncall import contacts
from clinicline.oncall.models import ContactMethod, Page, PageEvent
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox import service as outbox
from clinicline.simulator.phones import phone_token
from tests.conftest import make_member, signed_in
from tests.oncall.test_pages import policy, urgent
from tests.simulator.test_calls import PRACTICE_NUMBER, account  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

PROVIDER_PHONE = "+16175550190"
PIN = "4827"


@pytest.fixture
def provider(practice):
    user = make_member(practice, Role.PROVIDER, "osei")
    user.phone = PROVIDER_PHONE  # their own phone in the simulator
    user.save()
    ContactMethod.objects.create(user=user, kind=ContactMethod.Kind.VOICE,
                                 address=PROVIDER_PHONE, verified_at=timezone.now())
    contacts.set_pin(user, PIN)
    return user


@pytest.fixture
def rung(practice, account, provider):  # noqa: F811 (the fixture above)
    """The page opened, and its call handed to the loopback carrier."""
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 120})
    urgent(practice)
    assert outbox.send_due() >= 1
    return Page.objects.get()


def url(practice, name: str = "phone") -> str:
    return reverse(f"simulator:{name}", kwargs={"practice": practice.slug,
                                                "phone": phone_token(practice, PROVIDER_PHONE)})


def test_the_page_rings_the_providers_phone_and_answering_asks_for_the_pin(
        practice, provider, rung):
    client = signed_in(provider)
    html = client.get(url(practice)).content.decode()
    assert "The practice is calling" in html and "Let the answering machine take it" in html
    html = client.post(url(practice, "answer"), follow=True).content.decode()
    assert "Please enter your voice PIN, then press pound." in html
    assert "The practice is calling" not in html and 'name="key"' in html
    first = InboundWebhook.objects.get(kind=Kind.PAGE)
    assert (first.params["From"], first.params["To"]) == (PRACTICE_NUMBER, PROVIDER_PHONE)
    assert (first.params["Direction"], first.params["AnsweredBy"]) == ("outbound-api", "human")
    assert "Walter" not in html and "0 1 4 2" not in html


def test_the_right_pin_then_1_acknowledges_from_the_phone(practice, provider, rung):
    client = signed_in(provider)
    client.post(url(practice, "answer"))
    html = client.post(url(practice, "keys"), {"digits": PIN + "#"},
                       follow=True).content.decode()
    assert "The callback number is 6 1 7, 5 5 5, 0 1 4 2." in html
    html = client.post(url(practice, "keys"), {"key": "1"}, follow=True).content.decode()
    assert "Acknowledged. Thank you." in html
    rung.refresh_from_db()
    assert (rung.state, rung.acknowledged_by) == (Page.State.ACKNOWLEDGED, provider)
    # Every step went to the page webhook, from the practice's number.
    steps = InboundWebhook.objects.filter(kind=Kind.PAGE)
    assert steps.count() == 3 and {w.params["From"] for w in steps} == {PRACTICE_NUMBER}
    assert not InboundWebhook.objects.filter(kind=Kind.GATHER).exists()


def test_silence_at_the_pin_ends_the_call(practice, provider, rung):
    client = signed_in(provider)
    client.post(url(practice, "answer"))
    html = client.post(url(practice, "silence"), follow=True).content.decode()
    assert "No PIN was entered." in html and 'name="key"' not in html


def test_the_answering_machine_takes_it_and_the_page_goes_on(practice, provider, rung):
    client = signed_in(provider)
    html = client.post(url(practice, "machine"), follow=True).content.decode()
    assert "The answering machine answered" in html and "is waiting" in html
    assert 'name="key"' not in html and "The practice is calling" not in html
    rung.refresh_from_db()
    assert rung.state == Page.State.OPEN
    assert rung.events.filter(kind=PageEvent.Kind.MACHINE).exists()
    assert InboundWebhook.objects.get(kind=Kind.PAGE).params["AnsweredBy"] == "machine_start"


def test_nothing_rings_without_a_call_and_a_plain_call_only_speaks(practice, provider,
                                                                  account):  # noqa: F811
    client = signed_in(provider)
    assert client.post(url(practice, "answer")).status_code == 409
    outbox.enqueue(practice, channel="voice", to=PROVIDER_PHONE, purpose="page",
                   body="An urgent message has not been acknowledged.",
                   idempotency_key="alarm")
    outbox.send_due()
    html = client.get(url(practice)).content.decode()
    assert "The practice is calling" not in html and "It says:" in html
    assert client.post(url(practice, "machine")).status_code == 409


def test_another_member_cannot_answer_the_providers_phone(practice, provider, rung):
    """The simulator's rules: another member's phone is the admin's to see, nobody else's."""
    nurse = make_member(practice, Role.NURSE, "nurse")
    assert signed_in(nurse).post(url(practice, "answer")).status_code == 404
    assert not InboundWebhook.objects.filter(kind=Kind.PAGE).exists()
