"""Key rotation: master keys (re-wrap data keys) and practice data keys (re-encrypt values).

**Master key.** ``rewrap_master_keys`` unwraps every DataKey whose ``master_kid`` is not
the current master key's (settings.MASTER_KEYS[0]) with the old master key (from
CLINICLINE_PREVIOUS_MASTER_KEYS) and wraps it again under the current one. Row by row, each
a conditional UPDATE of its own, so an interrupted run is resumed by running it again; a
run with nothing left to re-wrap changes nothing. Encrypted values are untouched: they are
sealed by the data keys, which do not change.

**Practice data key.** ``rotate_practice`` adds the next data-key version as ACTIVE and
retires the older ones (kept: every version still decrypts, and rows not yet re-encrypted
need theirs), then re-encrypts every encrypted column of every model, for that practice's
rows whose token is not on the new version. Batches are keyset-paginated by primary key,
each in its own transaction; a row is rewritten only if its tokens are still the ones read
(a compare-and-swap), so a concurrent edit is never overwritten. An interrupted run loses
nothing: rows already re-encrypted are on the new version, the rest still open with their
old one. Running it again *resumes* (a practice with rows on an older version than its
active one is mid-rotation) instead of starting yet another version. ``rotate_practices``
does several practices with one settle wait (below) for them all.

**Why a final sweep.** Each process caches a practice's active version for
``ACTIVE_VERSION_TTL_S`` (keyring.py), so web and worker processes elsewhere keep sealing
new values under the old version for up to that long after the new key is committed; an
instance loaded before the rotation and saved after it also writes its untouched (old)
tokens back. So once the first pass is done, the rotation waits until ``settle_s`` (the
TTL plus a margin for transactions in flight) has passed since the new key was created,
then sweeps again until a pass finds nothing. Anything sealed under the old version even
later (a very long transaction) still opens, because retired keys are kept; the next
``rotate-keys --practice`` run finds it and resumes.

Progress is reported through a factory of ``update(n)`` / ``close()`` objects (tqdm fits),
called after each committed batch.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Substr
from django.utils import timezone

from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.vault.fields import EncryptedField, Sealed, encrypted_fields
from clinicline.vault.keyring import ACTIVE_VERSION_TTL_S, TOKEN_PREFIX, VaultError, keyring
from clinicline.vault.models import DataKey

# Other processes use the old version for up to the TTL; the margin covers a transaction
# that sealed just before its process noticed and commits a little later.
SETTLE_S = ACTIVE_VERSION_TTL_S + 5.0
BATCH_SIZE = 500
# A sweep that keeps finding rows means something keeps writing the old version.
MAX_SWEEPS = 5


class RotationError(Exception):
    """A rotation cannot go on; the message says why (never with PHI in it)."""


class Progress(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


# Called as factory(total, description); tqdm(total=..., desc=...) fits behind a lambda.
ProgressFactory = Callable[[int, str], Progress]


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(total: int, desc: str) -> Progress:
    return _Silent()


# --- what is encrypted ------------------------------------------------------------------

@dataclass(frozen=True)
class EncryptedTable:
    """One model's encrypted columns that share a practice attribute."""

    model: type[models.Model]
    fields: tuple[EncryptedField[Any, Any], ...]
    practice_attr: str

    @property
    def label(self) -> str:
        return self.model._meta.db_table

    def rows(self, practice_id: int) -> models.QuerySet[models.Model]:
        # The base manager: a default manager may hide rows (soft deletes) that still hold
        # ciphertext under the key being retired.
        return self.model._base_manager.filter(**{self.practice_attr: practice_id})


def encrypted_tables() -> list[EncryptedTable]:
    """Every installed model's encrypted columns, found through the app registry."""
    tables = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue  # its table is its concrete model's
        # A child model (multi-table inheritance) lists its parent's fields too; those
        # belong to the parent's table and are rotated there.
        own = [f for f in encrypted_fields(model) if f.model is model]
        for attr in dict.fromkeys(f.practice_attr for f in own):
            tables.append(EncryptedTable(
                model, tuple(f for f in own if f.practice_attr == attr), attr))
    return tables


def _stale(table: EncryptedTable, practice_id: int,
           version: int) -> models.QuerySet[models.Model]:
    """The practice's rows with at least one token not sealed under ``version``."""
    prefix = f"{TOKEN_PREFIX}.{version}."
    rows, stale = table.rows(practice_id), Q()
    for field in table.fields:
        # The version is the token's second part; compared as text in SQL (a CharField
        # expression, so the encrypted field's guard against lookups does not apply).
        alias = f"_vault_head_{field.attname}"
        rows = rows.alias(**{alias: Substr(field.attname, 1, len(prefix))})
        stale |= Q(**{f"{field.attname}__isnull": False}) & ~Q(**{alias: prefix})
    return rows.filter(stale)


def pending_rows(practice_id: int, version: int) -> int:
    """How many of the practice's rows still hold a token of another version."""
    return sum(_stale(t, practice_id, version).count() for t in encrypted_tables())


# --- practice data key ------------------------------------------------------------------

@dataclass
class PracticeRotation:
    practice_id: int
    from_version: int
    to_version: int
    resumed: bool
    rows: int = 0  # rows rewritten, all passes
    values: int = 0  # tokens re-encrypted
    swept: int = 0  # rows the final sweep found (written under the old version meanwhile)


@dataclass
class _Pass:
    seen: int = 0  # stale rows read
    rows: int = 0  # of which rewritten
    values: int = 0
    conflicts: int = 0  # rows changed under us; the next pass looks again


def rotate_practice(practice_id: int, *, batch_size: int = BATCH_SIZE,
                    settle_s: float = SETTLE_S, progress: ProgressFactory = no_progress,
                    notify: Callable[[str], object] = lambda message: None,
                    ) -> PracticeRotation:
    """Rotate the practice's data key and re-encrypt its values; resumes an unfinished one.

    ``settle_s``: how long after the new key's creation the final sweep starts (see the
    module docstring). 0 is right only when no other process is running. ``notify`` hears
    what a person watching should know (the wait), in words free of PHI.
    """
    return rotate_practices([practice_id], batch_size=batch_size, settle_s=settle_s,
                            progress=progress, notify=notify)[0]


def rotate_practices(practice_ids: list[int], *, batch_size: int = BATCH_SIZE,
                     settle_s: float = SETTLE_S, progress: ProgressFactory = no_progress,
                     notify: Callable[[str], object] = lambda message: None,
                     ) -> list[PracticeRotation]:
    """``rotate_practice`` for several practices, with one settle wait for them all (an
    answering service with hundreds of practices must not wait out the TTL for each).

    New keys are made for all first; if one practice cannot be rotated, the run stops
    there, and the next run resumes the practices that already have their new key.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = [_next_version(practice_id) for practice_id in practice_ids]
    keyring.clear()  # this process seals under the new versions from now on
    for rotation, _ in started:
        result = _reencrypt(rotation, batch_size, progress, "re-encrypting")
        rotation.rows, rotation.values = result.rows, result.values
    if not started:
        return []
    latest = max(created_at for _, created_at in started)
    wait = (latest - timezone.now()).total_seconds() + settle_s
    if wait > 0:
        notify(f"waiting {wait:.0f}s for other processes to stop sealing under the old "
               "data keys before the final sweep")
        time.sleep(wait)
    for rotation, _ in started:
        _sweep(rotation, batch_size, progress)
    return [rotation for rotation, _ in started]


def _sweep(rotation: PracticeRotation, batch_size: int, progress: ProgressFactory) -> None:
    for _ in range(MAX_SWEEPS):
        result = _reencrypt(rotation, batch_size, progress, "final sweep")
        rotation.rows += result.rows
        rotation.values += result.values
        rotation.swept += result.rows
        if not (result.rows or result.conflicts):
            return
    raise RotationError(
        f"practice {rotation.practice_id}: rows are still being written under an older data "
        f"key after {MAX_SWEEPS} sweeps; is a process running with a stale configuration?"
    )


def _next_version(practice_id: int) -> tuple[PracticeRotation, dt.datetime]:
    """Add the next ACTIVE version (or find the unfinished rotation); audited with it."""
    try:
        with transaction.atomic():
            # Locked: two rotations of one practice queue, and the second one resumes the
            # first. Read again once the lock is ours: on PostgreSQL the locking statement
            # does not see a version the first rotation inserted while we waited.
            data_keys = DataKey.objects.filter(practice_id=practice_id,
                                               purpose=DataKey.Purpose.DATA)
            list(data_keys.select_for_update())
            keys = list(data_keys.order_by("version"))
            if not keys:
                raise RotationError(
                    f"practice {practice_id} has no data key yet (nothing is encrypted): "
                    "nothing to rotate")
            active = [k for k in keys if k.state == DataKey.State.ACTIVE]
            if not active:
                raise RotationError(f"practice {practice_id} has no active data key")
            for key in keys:
                keyring.unwrap(key)  # every old version must open before we depend on it
            current = active[-1]
            if len(keys) > 1 and pending_rows(practice_id, current.version):
                older = max(k.version for k in keys if k.version < current.version)
                return (PracticeRotation(practice_id, older, current.version, resumed=True),
                        current.created_at)
            new = keyring.create_key(practice_id, DataKey.Purpose.DATA, keys[-1].version + 1)
            DataKey.objects.filter(pk__in=[k.pk for k in active]).update(
                state=DataKey.State.RETIRED, retired_at=new.created_at)
            record(Action.KEY_ROTATION, practice=practice_id,
                   reason=f"data key v{current.version} -> v{new.version}")
    except IntegrityError:
        raise RotationError(
            f"practice {practice_id}: another rotation created the same key version; "
            "run again to resume it") from None
    except VaultError as exc:
        raise RotationError(f"practice {practice_id}: {exc}") from None
    return (PracticeRotation(practice_id, current.version, new.version, resumed=False),
            new.created_at)


def _reencrypt(rotation: PracticeRotation, batch_size: int, progress: ProgressFactory,
               desc: str) -> _Pass:
    tables = encrypted_tables()
    version = rotation.to_version
    total = sum(_stale(t, rotation.practice_id, version).count() for t in tables)
    done = _Pass()
    bar = progress(total, f"{desc} (practice {rotation.practice_id})")
    try:
        for table in tables:
            for batch in _batches(table, rotation.practice_id, version, batch_size):
                done.rows += batch.rows
                done.values += batch.values
                done.conflicts += batch.conflicts
                bar.update(batch.seen)
    finally:
        bar.close()
    return done


def _batches(table: EncryptedTable, practice_id: int, version: int,
             batch_size: int) -> Iterator[_Pass]:
    """Re-encrypt the table's stale rows, one committed batch per item yielded."""
    names = [f.attname for f in table.fields]
    after = None
    while True:
        batch = _Pass()
        with transaction.atomic():
            rows = _stale(table, practice_id, version).order_by("pk")
            if after is not None:
                rows = rows.filter(pk__gt=after)
            # FOR UPDATE where there are row locks (PostgreSQL); SQLite's IMMEDIATE
            # transaction already holds the database's write lock.
            found = list(rows.select_for_update().values_list("pk", *names)[:batch_size])
            batch.seen = len(found)
            for pk, *tokens in found:
                _reencrypt_row(table, practice_id, version, pk, tokens, batch)
        if not found:
            return
        after = found[-1][0]
        yield batch
        if len(found) < batch_size:
            return


def _reencrypt_row(table: EncryptedTable, practice_id: int, version: int, pk: Any,
                   tokens: list[str | None], batch: _Pass) -> None:
    was: dict[str, Sealed | None] = {}
    new: dict[str, Sealed] = {}
    for field, token in zip(table.fields, tokens, strict=True):
        was[field.attname] = None if token is None else Sealed(token)
        sealed_under = None if token is None else _version_of(token)
        # Never back to an older key: a token under a newer version was sealed by a later
        # rotation that started while this one was finishing (two operators at once).
        if token is None or (sealed_under is not None and sealed_under >= version):
            continue
        aad = field.aad_for_pk(pk)
        try:
            plaintext = keyring.open(practice_id, aad, token)
        except VaultError as exc:
            raise RotationError(f"{table.label}.{field.column} of row {pk}: {exc}") from None
        new[field.attname] = Sealed(keyring.seal(practice_id, aad, plaintext, version=version))
    if not new:
        return
    # Only if no one changed the row since we read it: their value is newer than ours.
    if table.model._base_manager.filter(pk=pk, **was).update(**new):
        batch.rows += 1
        batch.values += len(new)
    else:
        batch.conflicts += 1


def _version_of(token: str) -> int | None:
    try:
        return keyring.token_version(token)
    except (ValueError, IndexError):
        return None  # not a token at all: keyring.open says so, with the place


# --- master key -------------------------------------------------------------------------

@dataclass
class MasterRewrap:
    kid: str
    keys: int = 0  # data keys re-wrapped by this run
    remaining: int = 0  # left for another run (changed concurrently)


def rewrap_master_keys(*, progress: ProgressFactory = no_progress) -> MasterRewrap:
    """Re-wrap every data key that is not under the current master key (resumable)."""
    current = keyring.current_kek
    stale = DataKey.objects.exclude(master_kid=current.kid).order_by("pk")
    missing = sorted(kid for kid in set(stale.values_list("master_kid", flat=True))
                     if kid not in {k.kid for k in keyring.keks})
    if missing:
        raise RotationError(
            f"data keys are wrapped under master key(s) {', '.join(missing)}, which are not "
            "configured; add them to CLINICLINE_PREVIOUS_MASTER_KEYS and run again")
    result = MasterRewrap(current.kid)
    bar = progress(stale.count(), "re-wrapping data keys")
    finished = False
    try:
        for key in stale.iterator():
            try:
                raw = keyring.unwrap(key)
            except VaultError as exc:
                raise RotationError(f"data key {key.pk}: {exc}") from None
            # Each key on its own; conditional, so a concurrent re-wrap is not undone.
            if DataKey.objects.filter(pk=key.pk, master_kid=key.master_kid,
                                      wrapped=key.wrapped).update(
                    master_kid=current.kid, wrapped=current.wrap(raw, key.aad)):
                result.keys += 1
            else:
                result.remaining += 1
            bar.update(1)
        finished = True
    finally:
        bar.close()
        if result.keys:
            # Recorded even when interrupted: those keys did change.
            record(Action.KEY_ROTATION,
                   reason=f"master key re-wrap: {result.keys} keys"
                          + ("" if finished else " (interrupted)"),
                   outcome=Outcome.SUCCESS if finished else Outcome.FAILURE)
    result.remaining = DataKey.objects.exclude(master_kid=current.kid).count()
    return result
