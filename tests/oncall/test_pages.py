"""Paging: an urgent message opens a page, its steps notify through the outbox without PHI,
a step that reaches nobody moves on at once, an acknowledgement stops everything pending,
and a page nobody acknowledges alarms the practice's fallback phone. Time is jumped, never
slept: every function takes ``now``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message
from clinicline.intake import texts
from clinicline.intake.service import call_types_for, take_message
from clinicline.oncall import pages
from clinicline.oncall.models import ContactMethod, NotificationRule, Page, PageEvent, Policy
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox.models import Delivery, Status
from clinicline.outbox.service import screened
from clinicline.practices.models import Practice
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

SITE = "https://answering.riverside.example"
PROVIDER_PHONE = "+16175550190"
MANAGER_PHONE = "+16175550191"
SECRETS = ("Walter", "Okafor", "1958", "calf", "breath")
T0 = dt.datetime(2026, 12, 5, 7, 10, tzinfo=dt.UTC)  # 02:10 in Boston


def urgent(practice: Practice, **answers: bool) -> Message:
    """An emergency call taken, and committed: what its commit sets off runs (the page's
    first step), as after a real request."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return take_message(practice, call_types_for(practice).get("clinical"), {
            "patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
            "callback_number": "+16175550142",
            "concern": "Knee surgery two days ago; calf swollen, short of breath tonight."},
            answers=answers or {"breathing": True, "chest_pain": False,
                                "recent_surgery": True})


def reachable(user: User, number: str, **rule: int) -> ContactMethod:
    method = ContactMethod.objects.create(user=user, kind=ContactMethod.Kind.SMS,
                                          address=number, verified_at=timezone.now())
    if rule:
        NotificationRule.objects.create(user=user, method=method, **rule)
    return method


def policy(practice: Practice, *steps: dict, repeat: int = 1) -> Policy:
    made = Policy.objects.create(practice=practice, name="Nights", repeat=repeat,
                                 is_default=True)
    for n, step in enumerate(steps):
        Step.objects.create(policy=made, position=n, **step)
    return made


@pytest.fixture
def provider(practice: Practice) -> User:
    user = make_member(practice, Role.PROVIDER, "osei")
    reachable(user, PROVIDER_PHONE)
    return user


@pytest.fixture
def manager(practice: Practice) -> User:
    user = make_member(practice, Role.PRACTICE_MANAGER, "manager")
    reachable(user, MANAGER_PHONE)
    return user


def page_of(message: Message) -> Page:
    return Page.objects.get(message=message)


def texts_to(number: str) -> list[Delivery]:
    return [d for d in Delivery.objects.filter(purpose="page", channel="sms").order_by(
        "created_at") if d.to == number]


def run(at: dt.datetime) -> int:
    return pages.run_due(now=at)


def test_the_inbox_says_when_nobody_is_on_call(practice, nurse):
    inbox = signed_in(nurse).get(f"/p/{practice.slug}/inbox/").content.decode()
    assert "Nobody is on call now" in inbox


def test_a_routine_message_opens_no_page(practice):
    take_message(practice, call_types_for(practice).get("refill"), {
        "patient_name": "Priya Raman", "date_of_birth": dt.date(1990, 6, 8),
        "medication": "levetiracetam", "pharmacy": "Riverside Pharmacy",
        "callback_number": "+12125550187", "days_left": 9})
    assert not Page.objects.exists()


@override_settings(SITE_URL=SITE)
def test_an_urgent_message_pages_the_named_member_at_once_without_phi(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    message = urgent(practice)
    page = page_of(message)
    assert page.state == Page.State.OPEN and message.priority in ("urgent", "emergency")
    # The first step ran as the message was saved (on commit), not at the worker's poll.
    [sms] = texts_to(PROVIDER_PHONE)
    assert sms.status == Status.QUEUED
    assert sms.body.startswith("Riverside Family Medicine: EMERGENCY message. Open "
                               f"{SITE}/a/")
    assert f"reply 1 to acknowledge (code {page.code})" in sms.body
    assert not [s for s in SECRETS if s.lower() in sms.body.lower()]
    # The in-app notice too, and each notification is an event and an audit row.
    assert Delivery.objects.filter(purpose="page", channel="in-app").count() == 1
    assert page.events.filter(kind=PageEvent.Kind.NOTIFIED).count() == 2
    assert AuditEvent.objects.filter(action=Action.PAGE_NOTIFY).count() == 2
    for event in AuditEvent.objects.filter(action__startswith="page."):
        assert not [s for s in SECRETS if s in f"{event.reason} {event.fields}"]


def test_the_page_keeps_its_policy_when_the_policy_changes(practice, provider, manager):
    rules = policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    rules.steps.update(member=manager)
    page.refresh_from_db()
    assert page.policy["steps"][0]["member"] == provider.pk


def test_each_step_waits_then_the_next_runs_and_an_unanswered_page_alarms(practice, provider,
                                                                          manager):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 30},
           {"target": Step.Target.MANAGER, "wait_s": 45}, repeat=2)
    page = page_of(urgent(practice))
    start = page.opened_at
    assert run(start + dt.timedelta(seconds=29)) == 0  # step 2 not due yet
    assert texts_to(MANAGER_PHONE) == []
    assert run(start + dt.timedelta(seconds=31)) == 1
    assert len(texts_to(MANAGER_PHONE)) == 1
    # Round two, the same two steps, then the alarm.
    assert run(start + dt.timedelta(seconds=77)) == 1
    assert len(texts_to(PROVIDER_PHONE)) == 2
    assert run(start + dt.timedelta(seconds=108)) == 1
    assert len(texts_to(MANAGER_PHONE)) == 2
    assert run(start + dt.timedelta(seconds=154)) == 1
    page.refresh_from_db()
    assert page.state == Page.State.ALARMED and page.next_step_at is None
    fallback = [d for d in Delivery.objects.filter(idempotency_key__contains=":alarm:")]
    assert {(d.channel, d.to) for d in fallback} == {("voice", practice.front_desk_number or
                                                      practice.callback_number),
                                                     ("sms", practice.front_desk_number or
                                                      practice.callback_number)}
    assert AuditEvent.objects.filter(action=Action.PAGE_ALARM).count() == 1
    assert run(start + dt.timedelta(hours=1)) == 0  # an alarmed page runs no more steps


def test_a_step_that_reaches_nobody_moves_on_at_once_and_says_why(practice, manager):
    nobody = make_member(practice, Role.PROVIDER, "unverified")
    ContactMethod.objects.create(user=nobody, kind=ContactMethod.Kind.SMS,
                                 address="+16175550199")  # never verified
    policy(practice, {"target": Step.Target.MEMBER, "member": nobody, "wait_s": 600},
           {"target": Step.Target.MANAGER, "wait_s": 60})
    page = page_of(urgent(practice))
    page.refresh_from_db()
    assert page.step == 1
    assert page.next_step_at - page.opened_at < dt.timedelta(seconds=1)  # no 600 s wait
    assert page.events.get(kind=PageEvent.Kind.UNREACHABLE).detail == (
        "step 1: nobody has a usable contact method")
    assert texts_to("+16175550199") == []
    assert run(timezone.now()) == 1
    assert len(texts_to(MANAGER_PHONE)) == 1


def test_personal_rules_delay_a_method_and_an_ack_cancels_what_is_still_queued(practice):
    provider = make_member(practice, Role.PROVIDER, "osei")
    reachable(provider, PROVIDER_PHONE, delay_s=0)
    voice = ContactMethod.objects.create(user=provider, kind=ContactMethod.Kind.VOICE,
                                         address=PROVIDER_PHONE, verified_at=timezone.now())
    NotificationRule.objects.create(user=provider, method=voice, delay_s=60)
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 120})
    page = page_of(urgent(practice))
    call = Delivery.objects.get(purpose="page", channel="voice")
    delay = call.due_at - page.opened_at
    assert dt.timedelta(seconds=60) <= delay < dt.timedelta(seconds=61)
    assert "Walter" not in call.body
    ack = pages.acknowledge(page, provider, via="link")
    assert ack.first and ack.page.state == Page.State.ACKNOWLEDGED
    call.refresh_from_db()
    assert call.status == Status.FAILED and "acknowledged" in call.error  # never rings
    assert run(page.opened_at + dt.timedelta(hours=1)) == 0
    assert not pages.acknowledge(page, provider, via="link").first  # once only


def test_a_step_run_twice_by_racing_workers_notifies_nobody_twice(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    stale = Page.objects.get(pk=page.pk)
    stale.step, stale.round = 0, 0  # as a second worker saw it before the first committed
    assert pages.run_step(stale, page.opened_at) == 0
    assert len(texts_to(PROVIDER_PHONE)) == 1


@override_settings(SITE_URL=SITE)
def test_the_link_needs_sign_in_and_acknowledges_with_its_button(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    [sms] = texts_to(PROVIDER_PHONE)
    path = re.search(r"https://\S+(/a/\w+)", sms.body).group(1)
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client = signed_in(provider)
    opened = client.get(path)
    assert opened.status_code == 200 and "Acknowledge" in opened.content.decode()
    assert AuditEvent.objects.filter(action=Action.PAGE_LINK).count() == 1
    done = client.post(path, {"action": "acknowledge"})
    assert done.status_code == 302 and str(page.message_id) in done["Location"]
    page.refresh_from_db()
    assert (page.state, page.acknowledged_by) == (Page.State.ACKNOWLEDGED, provider)
    resolved = client.post(path, {"action": "resolve",
                                  "outcome": "Called back at 02:31, advised the ER"})
    assert resolved.status_code == 302
    page.refresh_from_db()
    assert page.state == Page.State.RESOLVED
    assert page.outcome == "Called back at 02:31, advised the ER"


def test_the_link_is_not_for_another_practice_nor_for_billing(practice, provider,
                                                              other_admin):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    path = f"/a/{page.link_token}"
    assert signed_in(other_admin).get(path).status_code == 404
    biller = make_member(practice, Role.BILLING, "biller")
    assert signed_in(biller).get(path).status_code == 404
    page.link_expires_at = timezone.now() - dt.timedelta(seconds=1)
    page.save()
    assert signed_in(provider).get(path).status_code == 404


def reply(practice: Practice, number: str, body: str, n: int = 1) -> None:
    texts.receive_text(practice.pk, message_sid=f"SM{n:032d}", sender=number, body=body)
    texts.handle_texts()


def test_a_text_reply_of_1_acknowledges_and_makes_no_message(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    messages = Message.objects.count()
    reply(practice, PROVIDER_PHONE, "1")
    page.refresh_from_db()
    assert page.state == Page.State.ACKNOWLEDGED and page.acknowledged_by == provider
    assert page.events.get(kind=PageEvent.Kind.ACKNOWLEDGED).channel == "sms"
    assert Message.objects.count() == messages
    answer = [d for d in Delivery.objects.filter(idempotency_key__startswith="page-reply:")]
    assert len(answer) == 1 and answer[0].body.startswith("Acknowledged.")


def test_with_two_pages_open_a_reply_must_name_the_code(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    first, second = page_of(urgent(practice)), page_of(urgent(practice))
    reply(practice, PROVIDER_PHONE, "ACK", 1)
    assert Page.objects.filter(state=Page.State.OPEN).count() == 2
    reply(practice, PROVIDER_PHONE, f"ACK {second.code}", 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (Page.State.OPEN, Page.State.ACKNOWLEDGED)


def test_e_passes_the_page_on_to_the_next_step_now(practice, provider, manager):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 600},
           {"target": Step.Target.MANAGER, "wait_s": 60})
    page_of(urgent(practice))
    reply(practice, PROVIDER_PHONE, "E")
    assert run(timezone.now()) == 1
    assert len(texts_to(MANAGER_PHONE)) == 1


def test_a_text_from_a_stranger_saying_1_is_an_ordinary_text(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    reply(practice, "+16175550142", "1")
    page.refresh_from_db()
    assert page.state == Page.State.OPEN


def test_the_sweep_pages_an_urgent_message_that_has_none(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    message = urgent(practice)
    Page.objects.all().delete()  # as if a path had saved it without opening its page
    assert pages.sweep() == 1
    assert page_of(message).state == Page.State.OPEN
    assert pages.sweep() == 0


def test_the_read_back_promises_the_on_call_provider_only_when_a_page_opened(practice,
                                                                             provider):
    from clinicline.intake.office import Office, promise
    from clinicline.intake.service import scripts_for

    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    message = urgent(practice)
    office, words = Office.now(practice), scripts_for(practice)
    name, slots = promise(words, practice, message, office)
    assert name == "read_back_paged"  # (the provider slot: whoever the page reached first)
    assert words.text(name, **slots).startswith("The on-call provider will call you back within")
    Page.objects.all().delete()
    assert promise(words, practice, message, office) == ("read_back_urgent", {})


def test_an_alarmed_page_is_a_banner_on_the_practices_pages_until_someone_owns_it(
        practice, provider, nurse):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 10},
           repeat=1)
    page = page_of(urgent(practice))
    run(page.opened_at + dt.timedelta(seconds=11))
    page.refresh_from_db()
    assert page.state == Page.State.ALARMED
    client = signed_in(nurse)
    home = client.get(f"/p/{practice.slug}/inbox/").content.decode()
    assert "not acknowledged by anyone on call" in home
    assert f"/a/{page.link_token}" in home
    assert "Walter" not in home.split("alarm-banner")[1].split("</div>")[0]
    pages.acknowledge(page, nurse, via="link")
    assert "not acknowledged" not in client.get(f"/p/{practice.slug}/inbox/").content.decode()


def test_the_admin_builds_the_policy_new_pages_use_it_and_bad_steps_are_a_400(practice,
                                                                              provider):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    url = f"/p/{practice.slug}/oncall/policy/"
    assert signed_in(provider).get(url).status_code == 404  # admins only
    assert admin.get(url).status_code == 200
    bad = admin.post(url, {"action": "add", "target": "member", "wait_s": "5"})
    assert bad.status_code == 400
    page_text = bad.content.decode()
    assert "Choose the member this step notifies." in page_text
    assert "greater than or equal to 10" in page_text
    assert admin.post(url, {"action": "add", "target": "member", "member": provider.pk,
                            "wait_s": "45"}).status_code == 302
    assert admin.post(url, {"action": "repeat", "repeat": "3"}).status_code == 302
    assert admin.post(url, {"action": "nonsense"}).status_code == 400
    page = page_of(urgent(practice))
    assert page.policy["repeat"] == 3
    assert page.policy["steps"] == [{"target": "member", "member": provider.pk, "team": None,
                                     "wait_s": 45}]
    assert AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).count() == 2


def test_the_default_policy_pages_whoever_the_schedule_has_on_call_then_the_backup(
        practice, provider, manager):
    from clinicline.oncall.models import Layer, Rotation, RotationMember, Schedule

    nurse = make_member(practice, Role.NURSE, "backup")
    reachable(nurse, "+16175550192")
    schedule = Schedule.objects.create(practice=practice, name="After hours")
    for level, user in ((1, provider), (2, nurse)):
        layer = Layer.objects.create(schedule=schedule, level=level)
        rotation = Rotation.objects.create(layer=layer, kind=Rotation.Kind.WEEKLY,
                                           starts_on=dt.date(2026, 1, 5))
        RotationMember.objects.create(rotation=rotation, user=user, position=0)
    inbox = signed_in(nurse).get(f"/p/{practice.slug}/inbox/").content.decode()
    assert "On call now: <strong>osei</strong> · backup backup" in inbox
    page = page_of(urgent(practice))  # no policy of the practice's own: the default
    assert page.policy["steps"][0]["target"] == Step.Target.ON_CALL
    assert len(texts_to(PROVIDER_PHONE)) == 1 and texts_to("+16175550192") == []
    assert run(page.opened_at + dt.timedelta(seconds=121)) == 1
    assert len(texts_to("+16175550192")) == 1  # the backup, two minutes later
    assert run(page.opened_at + dt.timedelta(seconds=242)) == 1
    assert len(texts_to(MANAGER_PHONE)) == 1


def routine_clinical(practice: Practice) -> Message:
    """A routine clinical call at 02:10 in Boston, the office closed."""
    with time_machine.travel(T0), TestCase.captureOnCommitCallbacks(execute=True):
        return take_message(practice, call_types_for(practice).get("clinical"), {
            "patient_name": "Priya Raman", "callback_number": "+12125550187",
            "concern": "A question about a repeat blood test."},
            answers={"breathing": False, "chest_pain": False, "recent_surgery": False})


def test_a_practice_may_page_every_clinical_message_after_hours(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    quiet = routine_clinical(practice)
    assert quiet.priority == "routine" and not quiet.office_open and quiet.clinical
    assert not Page.objects.filter(message=quiet).exists()
    practice.page_clinical_after_hours = True
    practice.save()
    paged = routine_clinical(practice)
    assert page_of(paged).state == Page.State.OPEN
    assert len(texts_to(PROVIDER_PHONE)) == 1
    # The sweep applies the option too: the earlier clinical message of the night pages now.
    assert pages.sweep(T0 + dt.timedelta(minutes=1)) == 1
    assert page_of(quiet).state == Page.State.OPEN


def test_an_acknowledged_page_not_resolved_reminds_its_owner_then_pages_the_backup(
        practice, provider):
    from clinicline.oncall.models import Layer, Rotation, RotationMember, Schedule

    nurse = make_member(practice, Role.NURSE, "backup")
    reachable(nurse, "+16175550192")
    schedule = Schedule.objects.create(practice=practice, name="After hours")
    layer = Layer.objects.create(schedule=schedule, level=2)
    rotation = Rotation.objects.create(layer=layer, kind=Rotation.Kind.WEEKLY,
                                       starts_on=dt.date(2026, 1, 5))
    RotationMember.objects.create(rotation=rotation, user=nurse, position=0)
    ContactMethod.objects.create(user=provider, kind=ContactMethod.Kind.VOICE,
                                 address=PROVIDER_PHONE, verified_at=timezone.now())
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    acked = page.opened_at + dt.timedelta(seconds=30)
    pages.acknowledge(page, provider, via="link", now=acked)
    assert pages.follow_up(acked + dt.timedelta(minutes=29)) == 0
    assert pages.follow_up(acked + dt.timedelta(minutes=31)) == 1
    reminder = [d for d in texts_to(PROVIDER_PHONE) if "not resolved yet" in d.body]
    assert len(reminder) == 1 and "Walter" not in reminder[0].body
    assert not Delivery.objects.filter(purpose="page", channel="voice",
                                       idempotency_key__contains=":remind:").exists()
    assert pages.follow_up(acked + dt.timedelta(minutes=32)) == 0  # once
    assert pages.follow_up(acked + dt.timedelta(minutes=61)) == 1
    assert len(texts_to("+16175550192")) == 1  # the backup, paged as well
    page.refresh_from_db()
    assert page.state == Page.State.ACKNOWLEDGED and page.acknowledged_by == provider
    assert pages.follow_up(acked + dt.timedelta(hours=5)) == 0


def test_a_resolved_page_is_never_followed_up(practice, provider):
    policy(practice, {"target": Step.Target.MEMBER, "member": provider, "wait_s": 60})
    page = page_of(urgent(practice))
    pages.acknowledge(page, provider, via="link")
    assert pages.resolve(page, provider, "Called back, advised the ER")
    assert pages.follow_up(timezone.now() + dt.timedelta(hours=3)) == 0


@override_settings(SITE_URL=SITE)  # the secure-link host: its links may be sent
def test_every_reply_code_and_token_alphabet_pass_the_outboxs_last_screen(practice):
    """A page's text must never look like PHI to the outbox, or it is withheld: every code
    a page can draw, beside a link of the token's alphabet."""

    tokens = (pages.TOKEN_ALPHABET[:pages.TOKEN_LENGTH],    # letters only
              pages.TOKEN_ALPHABET[-pages.TOKEN_LENGTH:])   # ending in eight digits
    for token in tokens:
        for code in range(2000, 10000):
            body = (f"Riverside Family Medicine: EMERGENCY message. Open {SITE}/a/{token} "
                    f"or reply 1 to acknowledge (code {code}).")
            assert screened(practice, body) == [], \
                (token, code)
    assert screened(practice, "(code 1958)")  # what the range leaves out, and why
