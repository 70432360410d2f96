"""Key rotation without data loss: practice data keys (re-encryption), master keys (re-wrap),
interrupted and resumed, with other practices untouched."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import override_settings

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.env import new_master_key
from clinicline.patients import service as patients
from clinicline.patients.models import Patient
from clinicline.vault import rotation
from clinicline.vault.fields import Sealed
from clinicline.vault.keyring import LocalKEK, VaultError, keyring
from clinicline.vault.models import DataKey
from clinicline.vault.rotation import RotationError
from tests.conftest import make_practice
from tests.vault.conftest import populate, raw_column, snapshot, token_versions
from tests.vault.support import TIMEOUT_S, new_demo_install

pytestmark = pytest.mark.django_db


class PluggedOut(Exception):
    """The operator's Ctrl-C, or the machine going away, between two batches."""


class PullPlugAfter:
    """A progress bar that interrupts the run after ``batches`` committed batches."""

    def __init__(self, batches: int) -> None:
        self.left = batches
        self.batches_seen = 0

    def __call__(self, total: int, desc: str) -> PullPlugAfter:
        return self

    def update(self, n: int = 1) -> None:
        self.batches_seen += 1
        self.left -= 1
        if self.left == 0:
            raise PluggedOut

    def close(self) -> None:
        pass


def data_keys(practice) -> list[tuple[int, str]]:
    return list(DataKey.objects.filter(practice=practice, purpose=DataKey.Purpose.DATA)
                .order_by("version").values_list("version", "state"))


@pytest.fixture
def three_practices(db):
    practices = [make_practice("riverside"), make_practice("lakeside", "Lakeside Pediatrics"),
                 make_practice("hilltop", "Hilltop Cardiology")]
    for practice, n in zip(practices, (12, 5, 3), strict=True):
        populate(practice, n)
    return practices


def fresh(snapshot_of, practice):
    """Decrypt everything again with nothing cached: what another process would see."""
    keyring.clear()
    return snapshot_of(practice)


def test_rotating_a_practice_re_encrypts_everything_and_loses_nothing(three_practices):
    riverside, lakeside, hilltop = three_practices
    before = {p.slug: snapshot(p) for p in three_practices}
    others_raw = {p.slug: token_versions(p) for p in (lakeside, hilltop)}

    result = rotation.rotate_practice(riverside.pk, batch_size=5, settle_s=0)

    assert (result.from_version, result.to_version, result.resumed) == (1, 2, False)
    assert result.rows == 24  # 12 patients and their 12 phone numbers
    assert result.values == 12 + 12  # each patient's sealed identity record; each phone
    assert token_versions(riverside) == {2}
    assert data_keys(riverside) == [(1, "retired"), (2, "active")]
    assert DataKey.objects.get(practice=riverside, purpose="data", version=1).retired_at is not None
    # Every record of every practice still decrypts, to exactly what it was.
    for practice in three_practices:
        assert fresh(snapshot, practice) == before[practice.slug]
    # The other practices were not touched.
    for practice in (lakeside, hilltop):
        assert token_versions(practice) == others_raw[practice.slug] == {1}
        assert data_keys(practice) == [(1, "active")]


def test_a_rotation_is_audited_once_without_phi(three_practices):
    riverside = three_practices[0]
    rotation.rotate_practice(riverside.pk, settle_s=0)
    events = AuditEvent.objects.filter(action=Action.KEY_ROTATION)
    assert list(events.values_list("practice_id", "reason", "patient_id", "fields")) == [
        (riverside.pk, "data key v1 -> v2", "", "")]


def test_new_values_are_sealed_under_the_new_version(three_practices):
    riverside = three_practices[0]
    rotation.rotate_practice(riverside.pk, settle_s=0)
    patient = populate(riverside, 1)[0]
    assert raw_column(Patient, patient.pk, "identity").startswith("e1.2.")
    assert patients.find_by_phone(riverside, "+16175550100")[0].given_name == "Walter"


def test_rotating_again_keeps_every_old_version(three_practices):
    riverside = three_practices[0]
    before = snapshot(riverside)
    for _ in range(3):
        rotation.rotate_practice(riverside.pk, settle_s=0)
    assert data_keys(riverside) == [(1, "retired"), (2, "retired"), (3, "retired"),
                                    (4, "active")]
    assert token_versions(riverside) == {4}
    assert fresh(snapshot, riverside) == before


def test_blind_indexes_survive_a_rotation(three_practices):
    # The index key is not rotated with the data key: every stored index stays valid.
    riverside = three_practices[0]
    rotation.rotate_practice(riverside.pk, settle_s=0)
    keyring.clear()
    found = patients.find_by_phone(riverside, "(617) 555-0101")
    assert [p.given_name for p in found] == ["José"]
    assert patients.find_by_mrn(riverside, "riverside-1001") == found


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_rotation_resumes_where_it_stopped(three_practices):
    riverside, lakeside, _ = three_practices
    before = snapshot(riverside)

    plug = PullPlugAfter(batches=2)
    with pytest.raises(PluggedOut):
        rotation.rotate_practice(riverside.pk, batch_size=4, settle_s=0, progress=plug)

    # Two committed batches of four rows are on the new key, the rest on the old one, and
    # all of it reads (each token names its version; the old key is kept).
    assert data_keys(riverside) == [(1, "retired"), (2, "active")]
    assert rotation.pending_rows(riverside.pk, 2) == 24 - 8
    assert token_versions(riverside) == {1, 2}
    assert fresh(snapshot, riverside) == before

    result = rotation.rotate_practice(riverside.pk, batch_size=4, settle_s=0)

    assert (result.from_version, result.to_version, result.resumed) == (1, 2, True)
    assert result.rows == 24 - 8  # rows already on v2 were skipped
    assert data_keys(riverside) == [(1, "retired"), (2, "active")]  # no v3
    assert token_versions(riverside) == {2}
    assert fresh(snapshot, riverside) == before
    assert token_versions(lakeside) == {1}
    # One rotation, one audit event, however many runs it took.
    assert AuditEvent.objects.filter(action=Action.KEY_ROTATION).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_final_sweep_catches_values_written_under_the_old_key_meanwhile(three_practices):
    riverside = three_practices[0]
    first = Patient.objects.filter(practice=riverside).order_by("pk").first()
    # A request elsewhere loaded this patient before the rotation, and saves it during the
    # rotation, after the row was re-encrypted: its untouched fields go back as v1 tokens.
    stale = Patient.objects.get(pk=first.pk)
    expected = snapshot(riverside)

    class SaveStaleCopy(PullPlugAfter):
        def update(self, n: int = 1) -> None:
            self.batches_seen += 1
            if self.batches_seen == 1:
                stale.restricted = True
                stale.save()

    result = rotation.rotate_practice(riverside.pk, batch_size=5, settle_s=0,
                                      progress=SaveStaleCopy(0))

    assert raw_column(Patient, first.pk, "restricted") in (True, 1)  # the save happened
    assert result.swept == 1
    assert token_versions(riverside) == {2}
    assert fresh(snapshot, riverside) == expected


@pytest.mark.django_db(transaction=True)
def test_two_operators_rotating_at_once_lose_nothing(three_practices, tmp_path):
    """Two runs for one practice at the same moment queue on its keys: the second resumes
    the first (or, if it came late, rotates once more), and nothing is lost.

    Real concurrency on each database: threads with their own connections on PostgreSQL;
    on SQLite, whose test database is private to one connection, processes sharing one
    database file, as a one-office install would run them.
    """
    if connection.vendor == "postgresql":
        versions, tokens, intact = _two_threads(three_practices[0])
    else:
        versions, tokens, intact = _two_processes(tmp_path)
    assert versions in ([(1, "retired"), (2, "active")],
                        [(1, "retired"), (2, "retired"), (3, "active")])
    assert tokens == {versions[-1][0]}
    assert intact


def _two_threads(riverside) -> tuple[list[tuple[int, str]], set[int], bool]:
    before = snapshot(riverside)
    start = threading.Barrier(2, timeout=TIMEOUT_S)
    errors: list[BaseException] = []

    def operator() -> None:
        try:
            start.wait()
            rotation.rotate_practice(riverside.pk, batch_size=3, settle_s=0)
        except BaseException as exc:  # handed to the test thread, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert errors == []
    return data_keys(riverside), token_versions(riverside), fresh(snapshot, riverside) == before


CHECK_INSTALL = """
import json
from clinicline.patients.models import ContactPoint, Patient
from clinicline.vault.keyring import keyring
from clinicline.vault.models import DataKey
tokens = list(Patient.objects.values_list("identity", flat=True))
tokens += list(ContactPoint.objects.values_list("value", flat=True))
print(json.dumps({
    "keys": list(DataKey.objects.filter(purpose="data").order_by("version")
                 .values_list("version", "state")),
    "tokens": sorted({keyring.token_version(t) for t in tokens}),
    "people": sorted((p.given_name, str(p.date_of_birth)) for p in Patient.objects.all()),
}))
"""


def _two_processes(tmp_path) -> tuple[list[tuple[int, str]], set[int], bool]:
    install = new_demo_install(tmp_path)
    before = json.loads(install.run("shell", "-v", "0", "-c", CHECK_INSTALL).stdout)
    runs = [install.start("rotate-keys", "--practice", "demo", "--settle-seconds", "0",
                          "--batch-size", "2", "--no-progress") for _ in range(2)]
    outputs = [run.communicate(timeout=TIMEOUT_S) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    after = json.loads(install.run("shell", "-v", "0", "-c", CHECK_INSTALL).stdout)
    assert len(before["people"]) == 6
    return ([tuple(k) for k in after["keys"]], set(after["tokens"]),
            after["people"] == before["people"])


def test_a_row_changed_since_it_was_read_is_not_overwritten(three_practices):
    # Between reading a batch and writing it back, the front desk corrects a name. The
    # rotation's write must not put the old name back; the row waits for the next pass.
    riverside = three_practices[0]
    patient = Patient.objects.filter(practice=riverside).order_by("pk").first()
    table = next(t for t in rotation.encrypted_tables() if t.model is Patient)
    read = list(Patient.objects.filter(pk=patient.pk)
                .values_list(*[f.attname for f in table.fields]).get())
    patients.update_patient(Patient.objects.get(pk=patient.pk), family_name="Corrected")
    keyring.create_key(riverside.pk, DataKey.Purpose.DATA, 2)

    batch = rotation._Pass()
    rotation._reencrypt_row(table, riverside.pk, 2, patient.pk, read, batch)

    assert (batch.rows, batch.conflicts) == (0, 1)
    assert Patient.objects.get(pk=patient.pk).family_name == "Corrected"


def test_a_practice_without_a_key_has_nothing_to_rotate(db):
    empty = make_practice("newclinic", "New Clinic")
    with pytest.raises(RotationError, match="no data key yet"):
        rotation.rotate_practice(empty.pk, settle_s=0)


def test_an_unreadable_value_stops_the_rotation_and_names_only_its_place(three_practices):
    riverside = three_practices[0]
    victim = Patient.objects.filter(practice=riverside).order_by("pk").last()
    token = raw_column(Patient, victim.pk, "identity")
    # A token moved here from another row: it cannot be opened, so it cannot be rotated.
    other = Patient.objects.filter(practice=riverside).exclude(pk=victim.pk).first()
    Patient.objects.filter(pk=other.pk).update(identity=Sealed(token))
    with pytest.raises(RotationError, match=f"patients_patient.identity of row {other.pk}"):
        rotation.rotate_practice(riverside.pk, settle_s=0)


# --- master key --------------------------------------------------------------------------

def kid(key: str) -> str:
    return LocalKEK.from_b64(key).kid


@pytest.fixture
def old_and_new():
    return new_master_key(), new_master_key()


def test_master_rotation_rewraps_every_key_and_the_old_key_can_go(db, old_and_new):
    old, new = old_and_new
    with override_settings(MASTER_KEYS=[old]):
        riverside, lakeside = make_practice("riverside"), make_practice("lakeside", "Lakeside")
        populate(riverside, 3)
        populate(lakeside, 2)
        before = {p.slug: snapshot(p) for p in (riverside, lakeside)}
    assert set(DataKey.objects.values_list("master_kid", flat=True)) == {kid(old)}

    with override_settings(MASTER_KEYS=[new, old]):  # new first; old only unwraps
        result = rotation.rewrap_master_keys()
        again = rotation.rewrap_master_keys()  # idempotent

    assert (result.kid, result.keys, result.remaining) == (kid(new), 4, 0)  # data + index x2
    assert again.keys == 0
    assert set(DataKey.objects.values_list("master_kid", flat=True)) == {kid(new)}
    with override_settings(MASTER_KEYS=[new]):  # the old key is retired from the config
        for practice in (riverside, lakeside):
            assert snapshot(practice) == before[practice.slug]
        assert [p.given_name for p in patients.find_by_phone(lakeside, "+16175550101")] == \
            ["José"]
    with override_settings(MASTER_KEYS=[old]), pytest.raises(VaultError, match="not configured"):
        snapshot(riverside)  # the keys really are wrapped differently now
    assert list(AuditEvent.objects.filter(action=Action.KEY_ROTATION)
                .values_list("practice_id", "reason", "outcome")) == [
        (None, "master key re-wrap: 4 keys", Outcome.SUCCESS)]


def test_master_rotation_refuses_when_the_old_key_is_missing(db, old_and_new):
    old, new = old_and_new
    with override_settings(MASTER_KEYS=[old]):
        populate(make_practice("riverside"), 1)
    with override_settings(MASTER_KEYS=[new]), \
            pytest.raises(RotationError, match=f"{kid(old)}.*CLINICLINE_PREVIOUS_MASTER_KEYS"):
        rotation.rewrap_master_keys()
    assert set(DataKey.objects.values_list("master_kid", flat=True)) == {kid(old)}
    assert not AuditEvent.objects.filter(action=Action.KEY_ROTATION).exists()


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_master_rotation_resumes(old_and_new):
    old, new = old_and_new
    with override_settings(MASTER_KEYS=[old]):
        practices = [make_practice(f"clinic{i}", f"Clinic {i}") for i in range(3)]
        for practice in practices:
            populate(practice, 1)
        before = [snapshot(p) for p in practices]
    with override_settings(MASTER_KEYS=[new, old]):
        with pytest.raises(PluggedOut):
            rotation.rewrap_master_keys(progress=PullPlugAfter(batches=2))
        assert DataKey.objects.filter(master_kid=kid(new)).count() == 2
        result = rotation.rewrap_master_keys()
    assert (result.keys, result.remaining) == (4, 0)
    with override_settings(MASTER_KEYS=[new]):
        assert [snapshot(p) for p in practices] == before
    assert list(AuditEvent.objects.filter(action=Action.KEY_ROTATION).order_by("seq")
                .values_list("reason", "outcome")) == [
        ("master key re-wrap: 2 keys (interrupted)", Outcome.FAILURE),
        ("master key re-wrap: 4 keys", Outcome.SUCCESS)]


def test_a_data_key_rotation_needs_every_old_key_to_open(db, old_and_new):
    old, new = old_and_new
    with override_settings(MASTER_KEYS=[old]):
        riverside = make_practice("riverside")
        populate(riverside, 1)
    with override_settings(MASTER_KEYS=[new]), pytest.raises(RotationError, match=kid(old)):
        rotation.rotate_practice(riverside.pk, settle_s=0)
    assert data_keys(riverside) == [(1, "active")]  # nothing was created


def test_a_finishing_rotation_never_moves_values_back_to_an_older_key(three_practices):
    # Operator A re-sealed everything under v2; before A's final sweep, operator B started
    # a rotation to v3 and re-sealed some rows. A's sweep must leave those under v3.
    riverside = three_practices[0]
    first = rotation.rotate_practice(riverside.pk, settle_s=0)
    assert first.to_version == 2
    second = rotation.rotate_practice(riverside.pk, settle_s=0)
    assert second.to_version == 3 and token_versions(riverside) == {3}
    before = snapshot(riverside)

    late_sweep = rotation.PracticeRotation(riverside.pk, 1, 2, resumed=False)
    rotation._sweep(late_sweep, batch_size=3, progress=rotation.no_progress)

    assert late_sweep.rows == 0
    assert token_versions(riverside) == {3}
    assert fresh(snapshot, riverside) == before
