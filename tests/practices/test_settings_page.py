import pytest
from django.urls import reverse

from clinicline.accounts.roles import Role
from tests.conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

VALID = {"name": "Riverside", "time_zone": "America/New_York", "callback_number": "+16175550100",
         "front_desk_number": "", "idle_timeout_minutes": 15, "urgent_callback_minutes": 30,
         "page_remind_minutes": 30, "page_failover_minutes": 60, "transfer_timeout_s": 25,
         "message_retention_days": 2557, "name_in_messages": "on"}


def test_the_practice_admin_sets_the_idle_limit(practice):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    url = reverse("practices:settings", kwargs={"practice": practice.slug})
    response = admin.post(url, {**VALID, "time_zone": "America/Chicago",
                                "callback_number": "(617) 555-0100", "idle_timeout_minutes": 10,
                                "front_desk_number": "617 555 0199"})
    assert response.status_code == 302
    practice.refresh_from_db()
    assert (practice.idle_timeout_minutes, practice.time_zone, practice.callback_number,
            practice.front_desk_number) == (10, "America/Chicago", "+16175550100",
                                            "+16175550199")


@pytest.mark.parametrize("field,value,message", [
    ("idle_timeout_minutes", 0, "greater than or equal to 1"),
    ("idle_timeout_minutes", 240, "less than or equal to 60"),
    ("time_zone", "Mars/Olympus", "Select a valid choice"),
    ("callback_number", "call us", "not a phone number"),
    ("front_desk_number", "the desk", "not a phone number"),
    ("message_retention_days", 7, "greater than or equal to 30"),
    ("urgent_callback_minutes", 0, "greater than or equal to 5"),
    ("page_remind_minutes", 1, "greater than or equal to 5"),
    ("page_failover_minutes", 10_000, "less than or equal to 480"),
    ("transfer_timeout_s", 5, "greater than or equal to 10"),
    ("transfer_timeout_s", 61, "less than or equal to 60"),
])
def test_bad_settings_are_refused_clearly(practice, field, value, message):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    form = {**VALID, field: value}
    response = admin.post(reverse("practices:settings", kwargs={"practice": practice.slug}), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    practice.refresh_from_db()
    assert practice.idle_timeout_minutes == 15


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PRACTICE_ADMIN])
def test_only_the_practice_admin_changes_settings(practice, role):
    client = signed_in(make_member(practice, role, f"u-{role}"))
    url = reverse("practices:settings", kwargs={"practice": practice.slug})
    assert client.get(url).status_code == 404


def test_a_settings_change_is_audited_with_the_fields_changed(practice):
    from clinicline.audit.models import Action, AuditEvent  # noqa: PLC0415

    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    admin.post(reverse("practices:settings", kwargs={"practice": practice.slug}), {
        **VALID, "name": practice.name, "idle_timeout_minutes": 5})
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE)
    assert event.fields == "idle_timeout_minutes"


def test_an_empty_post_is_a_400(practice):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    response = admin.post(reverse("practices:settings", kwargs={"practice": practice.slug}), {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_a_practice_can_keep_its_name_out_of_messages(practice):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    data = {key: value for key, value in VALID.items() if key != "name_in_messages"}
    answer = admin.post(reverse("practices:settings", kwargs={"practice": practice.slug}), data)
    assert answer.status_code == 302
    practice.refresh_from_db()
    assert practice.name_in_messages is False
