"""The in-app transport: a notice on a member's home page, delivered the moment it is made,
and only ever to a member of the practice that sent it."""

from __future__ import annotations

import pytest

from clinicline.inbox.models import Notice
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import Practice

pytestmark = pytest.mark.django_db

BODY = "You have 2 new secure messages in Refills"


def notify(practice: Practice, to: str, key: str = "notice-1") -> Delivery:
    delivery = service.enqueue(practice, channel="in-app", to=to, body=BODY,
                               purpose="notification", idempotency_key=key)
    service.send_due()
    return Delivery.objects.get(pk=delivery.pk)


def test_a_notice_reaches_the_members_page_and_is_delivered_at_once(practice, nurse):
    delivery = notify(practice, str(nurse.pk))
    assert (delivery.status, delivery.transport) == (Status.DELIVERED, "in-app")
    assert delivery.delivered_at is not None
    notice = Notice.objects.get(delivery=delivery)
    assert (notice.user, notice.practice, notice.body, notice.read_at) == \
        (nurse, practice, BODY, None)
    assert delivery.vendor_id == f"notice-{notice.pk}"


def test_a_repeated_attempt_shows_one_notice(practice, nurse):
    delivery = notify(practice, str(nurse.pk))
    # A worker that died after making the notice but before recording it tries again.
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.QUEUED)
    service.send_due()
    assert Notice.objects.filter(delivery=delivery).count() == 1


@pytest.mark.parametrize("who", ["other practice's admin", "nobody", "not an id"])
def test_only_a_member_of_the_practice_gets_its_notices(practice, other_admin, who):
    to = {"other practice's admin": str(other_admin.pk), "nobody": "999999",
          "not an id": "nurse@riverside.example"}[who]
    delivery = notify(practice, to)
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert delivery.error == "in-app: the recipient is not a member of this practice"
    assert not Notice.objects.exists()
