"""The practice admin's staff pages: the list, inviting a new member, and the actions on a
member's account, each re-authenticated and audited, none reaching another practice's
staff, none leaving a practice without an admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts import mfa
from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.oncall import contacts
from clinicline.oncall.models import ContactMethod
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery
from tests.conftest import PASSWORD, make_member, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")


@pytest.fixture
def admin(admin_user) -> Client:
    return signed_in(admin_user)


@pytest.fixture
def nurse(practice) -> User:
    return make_member(practice, Role.NURSE, "nurse")


def can_sign_in(username: str, password: str) -> bool:
    client = Client()
    client.post(reverse("accounts:login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def url(practice, name: str = "list", **kwargs) -> str:
    return reverse(f"staff:{name}", kwargs={"practice": practice.slug, **kwargs})


def test_the_list_shows_role_last_sign_in_mfa_and_whether_they_can_be_paged(
        practice, admin, nurse):
    provider = make_member(practice, Role.PROVIDER, "provider")
    TOTPDevice.objects.filter(user=provider).delete()
    User.objects.filter(pk=nurse.pk).update(last_login=timezone.now())
    mobile = contacts.add(nurse, contacts.Kind.SMS, "+16175550199")
    ContactMethod.objects.filter(pk=mobile.pk).update(verified_at=timezone.now())
    page = admin.get(url(practice)).content.decode()
    rows = {name: row for name, row in re.findall(
        r'<tr[^>]*>\s*<td data-label="Member"><a[^>]*>(\w+)</a>(.*?)</tr>', page, re.S)}
    assert set(rows) == {"admin", "nurse", "provider"}
    assert 'data-label="Phone">verified<' in rows["nurse"]
    assert "never" not in rows["nurse"] and "never" in rows["provider"]
    assert "not enrolled" in rows["provider"] and "not enrolled" not in rows["nurse"]
    assert "none verified" in rows["provider"] and "none verified" not in rows["nurse"]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PRACTICE_ADMIN])
def test_only_admins_open_the_staff_pages(practice, nurse, role):
    client = signed_in(make_member(practice, role, f"the-{role}"))
    assert client.get(url(practice)).status_code == 404
    assert client.post(url(practice, "sign_out", user_id=nurse.pk)).status_code == 404


def test_another_practices_admin_can_never_act_on_this_practices_member(
        practice, nurse, other_practice, other_admin):
    client = signed_in(other_admin)
    before = nurse.session_epoch
    for name in ("member", "role", "deactivate", "reset_mfa", "sign_out"):
        for slug in (other_practice, practice):  # their own slug, then ours
            response = client.post(url(slug, name, user_id=nurse.pk), {"role": "agent"})
            assert response.status_code == 404, name
    nurse.refresh_from_db()
    assert (nurse.is_active, nurse.session_epoch) == (True, before)
    assert Membership.objects.get(user=nurse).role == Role.NURSE
    assert TOTPDevice.objects.filter(user=nurse).exists()
    assert "nurse" not in client.get(url(other_practice)).content.decode()


@pytest.mark.parametrize("name,data", [("member", None), ("role", {"role": "agent"}),
                                       ("deactivate", {}), ("reset_mfa", {}),
                                       ("sign_out", {}), ("add", {})])
def test_every_action_asks_for_the_password_and_code_again(practice, admin, nurse, name,
                                                           data):
    session = admin.session
    session["reauth_at"] = timezone.now().timestamp() - 3600
    session.save()
    kwargs = {} if name == "add" else {"user_id": nurse.pk}
    response = admin.post(url(practice, name, **kwargs), data or {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    nurse.refresh_from_db()
    assert nurse.is_active and nurse.session_epoch == 0
    assert not AuditEvent.objects.filter(action__startswith="staff.").exists()


def test_the_admin_changes_a_role(practice, admin, admin_user, nurse):
    response = admin.post(url(practice, "role", user_id=nurse.pk), {"role": "provider"})
    assert response.status_code == 302
    assert Membership.objects.get(user=nurse).role == Role.PROVIDER
    event = AuditEvent.objects.get(action=Action.STAFF_ROLE)
    assert (event.actor_id, event.practice_id, event.object_id) == (
        admin_user.pk, practice.pk, str(nurse.pk))
    assert event.reason == "Role changed from nurse to provider."


@pytest.mark.parametrize("data,message", [({"role": "owner"}, "Select a valid choice"),
                                          ({}, "This field is required."),
                                          ({"role": "nurse"}, "That is the member")])
def test_a_bad_role_is_a_clear_400(practice, admin, nurse, data, message):
    response = admin.post(url(practice, "role", user_id=nurse.pk), data)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Membership.objects.get(user=nurse).role == Role.NURSE


def test_the_last_admin_cannot_demote_or_deactivate_themselves(practice, admin, admin_user):
    for name, data in [("role", {"role": "nurse"}), ("deactivate", {})]:
        response = admin.post(url(practice, name, user_id=admin_user.pk), data)
        assert response.status_code == 400
        assert "only active admin" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert Membership.objects.get(user=admin_user).role == Role.PRACTICE_ADMIN
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED,
                                     action__startswith="staff.").count() == 2


def test_with_a_second_admin_the_first_may_step_down(practice, admin, admin_user):
    make_member(practice, Role.PRACTICE_ADMIN, "second-admin")
    response = admin.post(url(practice, "role", user_id=admin_user.pk), {"role": "nurse"})
    assert response.status_code == 302
    assert Membership.objects.get(user=admin_user).role == Role.NURSE


def test_an_inactive_admin_does_not_count_as_the_other_admin(practice, admin, admin_user):
    gone = make_member(practice, Role.PRACTICE_ADMIN, "gone-admin")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    response = admin.post(url(practice, "deactivate", user_id=admin_user.pk))
    assert response.status_code == 400


def test_deactivating_ends_sign_in_and_every_session(practice, admin, nurse):
    nurses_phone, nurses_laptop = signed_in(nurse), signed_in(nurse)
    home = reverse("practices:home", kwargs={"practice": practice.slug})
    assert nurses_phone.get(home).status_code == 200
    response = admin.post(url(practice, "deactivate", user_id=nurse.pk))
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_active
    for client in (nurses_phone, nurses_laptop):
        response = client.get(home)
        assert response.status_code == 302 and "login" in response["Location"]
    assert not can_sign_in("nurse", PASSWORD)
    assert AuditEvent.objects.filter(action=Action.STAFF_DEACTIVATE,
                                     object_id=str(nurse.pk)).exists()
    page = admin.get(url(practice)).content.decode()
    assert "deactivated" in page


def test_a_member_of_two_practices_is_only_removed_from_this_one(
        practice, admin, other_practice):
    agent = make_member(other_practice, Role.AGENT, "agent")
    Membership.objects.create(user=agent, practice=practice, role=Role.AGENT)
    response = admin.post(url(practice, "deactivate", user_id=agent.pk))
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.is_active
    assert list(Membership.objects.filter(user=agent).values_list("practice", flat=True)) == [
        other_practice.pk]


def test_sign_out_everywhere_ends_every_session_and_the_member_signs_in_again(
        practice, admin, nurse):
    phone, laptop = signed_in(nurse), signed_in(nurse)
    home = reverse("practices:home", kwargs={"practice": practice.slug})
    assert admin.post(url(practice, "sign_out", user_id=nurse.pk)).status_code == 302
    for client in (phone, laptop):
        response = client.get(home)
        assert response.status_code == 302 and "login" in response["Location"]
        assert client.get(home).status_code == 302  # and stays out
    revoked = AuditEvent.objects.filter(action=Action.SESSION_REVOKED, actor_id=nurse.pk)
    assert revoked.count() == 2
    assert not AuditEvent.objects.filter(action=Action.LOGOUT, actor_id=nurse.pk).exists()
    # A session that starts afterwards carries the new epoch, and lives.
    fresh = Client()
    fresh.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    assert fresh.session["epoch"] == 1
    # And the admin's own session was not touched.
    assert admin.get(url(practice)).status_code == 200


def test_reset_mfa_removes_the_devices_and_the_member_enrols_again(practice, admin, nurse):
    mfa.new_recovery_codes(nurse)
    session = signed_in(nurse)
    assert admin.post(url(practice, "reset_mfa", user_id=nurse.pk)).status_code == 302
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert not StaticDevice.objects.filter(user=nurse).exists()
    home = reverse("practices:home", kwargs={"practice": practice.slug})
    assert "login" in session.get(home)["Location"]
    fresh = Client()
    fresh.post(reverse("accounts:login"), {"username": "nurse", "password": PASSWORD})
    response = fresh.get(home)
    assert response.status_code == 302
    assert fresh.get(response["Location"])["Location"] == reverse("accounts:mfa_enrol")
    assert AuditEvent.objects.filter(action=Action.STAFF_MFA_RESET).count() == 1


def add_form(**change) -> dict:
    return {"first_name": "Dana", "last_name": "Reyes", "email": "dana@riverside.example",
            "username": "dreyes", "role": "front-desk", **change}


def test_the_admin_invites_a_member_who_sets_their_own_password(practice, admin):
    response = admin.post(url(practice, "add"), add_form())
    assert response.status_code == 302
    dana = User.objects.get(username="dreyes")
    assert not dana.has_usable_password()
    assert Membership.objects.get(user=dana, practice=practice).role == Role.FRONT_DESK
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.to, delivery.purpose) == (
        "email", "dana@riverside.example", "staff-invitation")
    assert outbox.refused(delivery) == []
    link = re.search(r"https?://\S+", delivery.body).group(0)
    event = AuditEvent.objects.get(action=Action.STAFF_ADD)
    assert (event.object_id, event.reason) == (str(dana.pk), "front-desk")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in " ".join(str(getattr(event, f.name)) for f in AuditEvent._meta.fields)

    dana_client = Client()
    path = link.removeprefix("http://127.0.0.1:8000")
    form = dana_client.get(path, follow=True)
    assert form.status_code == 200 and "Set your password" in form.content.decode()
    assert token not in form.redirect_chain[-1][0]  # Django moves it out of the address bar
    new_password = "lantern orchard velvet 42"
    done = dana_client.post(form.redirect_chain[-1][0], {
        "new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert can_sign_in("dreyes", new_password)
    # The link works once.
    again = Client().get(path, follow=True).content.decode()
    assert "used already, or it has expired" in again


@pytest.mark.parametrize("change,message", [
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"username": "has spaces"}, "A username has only letters"),
    ({"username": "nurse"}, "That username is taken"),
    ({"email": "NURSE@riverside.example"}, "already has a clinicline account"),
    ({"role": "owner"}, "Select a valid choice"),
])
def test_a_bad_new_member_is_a_clear_400(practice, admin, change, message):
    make_member(practice, Role.NURSE, "nurse", email="nurse@riverside.example")
    response = admin.post(url(practice, "add"), add_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="dreyes").exists()
    assert not Delivery.objects.exists()
