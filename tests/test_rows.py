"""``rows.insert_many`` and ``rows.update_many`` store what the ORM's own save stores:
sealed fields sealed (and opened again on reading), auto times set, only the named columns
changed."""

from __future__ import annotations

import pytest
from django.db import connection

from clinicline.outbox.models import Delivery, Status
from clinicline.outbox.service import unsaved
from clinicline.practices.models import Provider
from clinicline.rows import insert_many, update_many

pytestmark = pytest.mark.django_db


def made(practice, n: int) -> Delivery:
    return unsaved(practice, channel="sms", to=f"+1617555{1000 + n:04d}",
                   body=f"Riverside Family Medicine: please call us ({n}).",
                   purpose="reminder", idempotency_key=f"bulk-{n}")


def test_inserted_rows_read_back_as_saved_ones(practice):
    saved = [made(practice, n) for n in range(3)]
    insert_many(saved)
    assert not any(r._state.adding for r in saved)
    back = {d.idempotency_key: d for d in Delivery.objects.all()}
    assert [str(back[f"bulk-{n}"].body) for n in range(3)] == [
        f"Riverside Family Medicine: please call us ({n})." for n in range(3)]
    assert all(back[r.idempotency_key].created_at is not None for r in saved)
    with connection.cursor() as cursor:  # sealed at rest, as save() seals it
        cursor.execute("SELECT body FROM outbox_delivery")
        assert not any("please call" in body for (body,) in cursor.fetchall())


def test_update_writes_the_named_columns_only(practice):
    two = [made(practice, n) for n in range(2)]
    insert_many(two)
    two[0].status, two[0].body = Status.FAILED, "changed but not named"
    two[1].status = Status.SENT
    update_many(two, ["status"])
    back = {d.pk: d for d in Delivery.objects.all()}
    assert (back[two[0].pk].status, back[two[1].pk].status) == (Status.FAILED, Status.SENT)
    assert str(back[two[0].pk].body) == "Riverside Family Medicine: please call us (0)."


def test_what_it_refuses(practice):
    with pytest.raises(ValueError, match="one model at a time"):
        insert_many([made(practice, 1), Provider(practice=practice, display_name="Dr. Lee")])
    with pytest.raises(ValueError, match="no such columns"):
        update_many([made(practice, 2)], ["status", "nonsense"])
    with pytest.raises(ValueError, match="primary key set"):
        insert_many([Provider(practice=practice, display_name="Dr. Lee")])  # an AutoField
    insert_many([])  # nothing to do
