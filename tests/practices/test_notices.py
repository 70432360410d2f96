"""In-app notices on the member's practice page: their own, this practice's, newest first,
and marked read only when they say so."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.inbox.models import Notice
from clinicline.outbox import service
from clinicline.practices.models import Practice
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def notify(practice: Practice, user: User, body: str, key: str) -> Notice:
    """A notice, sent the way the domain sends one: through the outbox and the worker."""
    delivery = service.enqueue(practice, channel="in-app", to=str(user.pk), body=body,
                               purpose="notification", idempotency_key=key)
    service.send_due()
    return Notice.objects.get(delivery=delivery)


def home(client: Client, practice: Practice) -> str:
    response = client.get(reverse("practices:home", kwargs={"practice": practice.slug}))
    assert response.status_code == 200
    return response.content.decode()


def mark_read(client: Client, practice: Practice, *ids: object) -> int:
    url = reverse("practices:notices_read", kwargs={"practice": practice.slug})
    return client.post(url, {"notice": [str(i) for i in ids]}).status_code


def test_the_member_sees_their_unread_notices_newest_first(practice, nurse):
    notify(practice, nurse, "You have 2 new secure messages in Refills", "n-1")
    notify(practice, nurse, "Urgent message waiting: open the on-call page", "n-2")
    page = home(signed_in(nurse), practice)
    assert "2 unread" in page
    assert page.index("Urgent message waiting") < page.index("You have 2 new secure messages")


def test_only_their_own_notices_of_this_practice(practice, other_practice, nurse, biller):
    notify(practice, biller, "A billing notice", "n-1")
    # The nurse also works for the other practice: its notices stay on its own page.
    Membership.objects.create(user=nurse, practice=other_practice, role=Role.NURSE)
    notify(other_practice, nurse, "A Lakeside notice", "n-2")
    page = home(signed_in(nurse), practice)
    assert "A billing notice" not in page and "A Lakeside notice" not in page
    assert "No unread notices" in page


def test_the_ten_newest_are_shown(practice, nurse):
    for n in range(12):
        notify(practice, nurse, f"Notice number {n:02d}", f"n-{n}")
    page = home(signed_in(nurse), practice)
    shown = [n for n in range(12) if f"Notice number {n:02d}" in page]
    assert shown == list(range(2, 12))
    assert "Showing the newest 10 of 12" in page


def test_marking_read_takes_only_the_listed_notices(practice, nurse, biller):
    seen = notify(practice, nurse, "Seen notice", "n-1")
    later = notify(practice, nurse, "Arrived after the page was drawn", "n-2")
    theirs = notify(practice, biller, "The biller's notice", "n-3")
    client = signed_in(nurse)
    assert mark_read(client, practice, seen.pk, theirs.pk) == 302
    seen.refresh_from_db(), later.refresh_from_db(), theirs.refresh_from_db()
    assert seen.read_at is not None
    assert later.read_at is None and theirs.read_at is None  # not listed / not theirs
    page = home(client, practice)
    assert "Seen notice" not in page and "Arrived after the page was drawn" in page


# "²" passes str.isdigit() and fails int(); "١" passes both; 2**63 overflows a bigint key.
@pytest.mark.parametrize("ids", [(), ("abc",), ("1; DROP TABLE",), ("²",), ("١",), ("1", "²"),
                                 (str(2**63),), ("9" * 40,), ("0",), ("-1",)])
def test_a_bad_mark_read_request_is_a_clear_400(practice, nurse, ids):
    notice = notify(practice, nurse, "A notice", "n-1")
    url = reverse("practices:notices_read", kwargs={"practice": practice.slug})
    response = signed_in(nurse).post(url, {"notice": list(ids)})
    assert response.status_code == 400
    assert b"Say which notices" in response.content
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_read_is_a_post(practice, nurse):
    url = reverse("practices:notices_read", kwargs={"practice": practice.slug})
    assert signed_in(nurse).get(url).status_code == 405
