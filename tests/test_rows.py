"""``rows.insert_many`` and ``rows.update_many`` store what the ORM's own save stores:
sealed fields sealed (and opened again on reading), auto times set, only the named columns
changed."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, models
from django.utils import timezone

from clinicline import rows
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


def test_auto_times_are_set_once_a_statement(practice):
    """``auto_now_add`` and ``auto_now`` times are set on the instances as ``save`` sets
    them, one now for a statement's rows; an update stamps them only when named."""
    three = [made(practice, n) for n in range(3)]
    three[0].created_at = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)  # save() overwrites it too
    before = timezone.now()
    insert_many(three)
    stamped = {(r.created_at, r.updated_at) for r in three}
    assert len(stamped) == 1 and before <= three[0].created_at == three[0].updated_at
    back = Delivery.objects.get(pk=three[0].pk)
    assert (back.created_at, back.updated_at) == (three[0].created_at, three[0].updated_at)
    update_many(three, ["status"])
    assert {r.updated_at for r in three} == {three[0].created_at}  # not named: left alone
    update_many(three, ["status", "updated_at"])
    assert len({r.updated_at for r in three}) == 1 and three[0].updated_at > three[0].created_at
    assert Delivery.objects.get(pk=three[2].pk).updated_at == three[0].updated_at
    assert Delivery.objects.get(pk=three[2].pk).created_at == three[0].created_at


def test_what_it_refuses(practice):
    with pytest.raises(ValueError, match="one model at a time"):
        insert_many([made(practice, 1), Provider(practice=practice, display_name="Dr. Lee")])
    with pytest.raises(ValueError, match="no such columns"):
        update_many([made(practice, 2)], ["status", "nonsense"])
    with pytest.raises(ValueError, match="primary key set"):
        insert_many([Provider(practice=practice, display_name="Dr. Lee")])  # an AutoField
    insert_many([])  # nothing to do


def every_model():
    from django.apps import apps

    return [m for m in apps.get_models() if m._meta.app_label in {
        "outbox", "outreach", "audit", "intake", "gateways", "patients"}]


AWARE = [dt.datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=dt.UTC),
         dt.datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")),
         dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45)))]


def samples(field):
    """Values of the kinds each field holds, and some it is sent that it does not."""
    from django.db.models import ForeignKey, UUIDField

    if isinstance(field, ForeignKey):
        return samples(field.target_field)
    values = [None, "", "0", "12", "text", 0, 7, True, False]
    if isinstance(field, UUIDField):
        values += [uuid.uuid4(), str(uuid.uuid4())]
    if isinstance(field, models.DateTimeField):
        values += [*AWARE, dt.datetime(2026, 5, 1, 9, 0), "2026-05-01T09:00:00+00:00"]
    return values


def test_each_field_is_read_as_its_pre_save_reads_it():
    """``rows._pre_save``'s shorter path (the attribute as it is) reads what the field's
    own ``pre_save`` returns, for every field it takes it for (the times ``_stamp`` sets
    aside)."""
    own = (models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save)
    checked = 0
    for model in every_model():
        instance = model()
        for field in model._meta.concrete_fields:
            if type(field).pre_save not in own:
                continue
            if isinstance(field, models.DateTimeField):
                setattr(instance, field.attname, AWARE[1])
            elif isinstance(field, models.DateField):
                setattr(instance, field.attname, dt.date(1958, 4, 2))
            for add in (True, False):
                if field.attname in rows._stamped(model, add):
                    continue
                assert rows._pre_save(field, add)(instance) == field.pre_save(instance, add), (
                    model, field, add)
                checked += 1
    assert checked > 300


def test_each_field_is_sent_what_the_orm_sends_it():
    """``rows._prep``'s shorter paths send each value exactly what the field's own
    ``get_db_prep_save`` sends, or fail as it fails."""
    db = rows._db()
    checked = 0
    for model in every_model():
        for field in model._meta.concrete_fields:
            if type(field).get_db_prep_save is not models.Field.get_db_prep_save and not \
                    isinstance(field, models.ForeignKey):
                continue  # a field of its own kind (sealed): the shorter paths leave it alone
            prep = rows._prep(field)
            for value in samples(field):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # a naive time
                        expected = field.get_db_prep_save(value, db)
                except Exception as exc:  # noqa: BLE001 (the same failure is expected)
                    with pytest.raises(type(exc)), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        prep(value, db)
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    got = prep(value, db)
                assert (got, type(got)) == (expected, type(expected)), (model, field, value)
                checked += 1
    assert checked > 500
