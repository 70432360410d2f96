"""`clinicline rotate-keys`, as the operator runs it: messages, progress and failures."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from clinicline.audit.models import Action, AuditEvent
from clinicline.env import new_master_key
from clinicline.vault import rotation
from clinicline.vault.keyring import LocalKEK
from clinicline.vault.models import DataKey
from tests.conftest import make_practice
from tests.vault.conftest import populate, snapshot, token_versions

pytestmark = pytest.mark.django_db


def rotate_keys(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def riverside(db):
    practice = make_practice("riverside")
    populate(practice, 4)
    return practice


def test_rotating_one_practice(riverside):
    before = snapshot(riverside)
    out, err = rotate_keys("--practice", "riverside", "--settle-seconds", "0", "--no-progress")
    assert out == ("practice riverside: rotated data key v1 -> v2; re-encrypted 8 values "
                   "in 8 rows\n")
    assert err == ""
    assert token_versions(riverside) == {2}
    assert snapshot(riverside) == before


def test_progress_is_shown_on_stderr(riverside):
    out, err = rotate_keys("--practice", "riverside", "--settle-seconds", "0",
                           "--batch-size", "3")
    assert "re-encrypting" in err and "8/8" in err and "100%" in err
    assert "re-encrypting" not in out


def test_the_wait_before_the_final_sweep_is_announced_once_for_all(riverside, monkeypatch):
    populate(make_practice("lakeside", "Lakeside Pediatrics"), 1)
    # An hour's settle, so the first pass can never outlast it on a loaded machine; the
    # wait itself is recorded rather than slept.
    waits: list[float] = []
    monkeypatch.setattr(rotation.time, "sleep", waits.append)
    out, err = rotate_keys("--all-practices", "--settle-seconds", "3600", "--no-progress")
    assert len(waits) == 1 and 3500 < waits[0] <= 3600
    assert err.count("waiting") == 1
    assert "for other processes to stop sealing under the old data keys" in err
    assert len(out.splitlines()) == 2


def test_every_practice_at_once(riverside):
    lakeside = make_practice("lakeside", "Lakeside Pediatrics")
    populate(lakeside, 2)
    make_practice("newclinic", "New Clinic")  # nothing encrypted yet: not rotated
    out, _ = rotate_keys("--all-practices", "--settle-seconds", "0", "--no-progress")
    assert out.splitlines() == [
        "practice riverside: rotated data key v1 -> v2; re-encrypted 8 values in 8 rows",
        "practice lakeside: rotated data key v1 -> v2; re-encrypted 4 values in 4 rows",
    ]
    assert token_versions(riverside) == token_versions(lakeside) == {2}
    assert AuditEvent.objects.filter(action=Action.KEY_ROTATION).count() == 2


def test_every_practice_when_none_has_a_key(db):
    make_practice("newclinic", "New Clinic")
    out, _ = rotate_keys("--all-practices", "--no-progress")
    assert "nothing to rotate" in out


def test_without_an_instruction_there_is_nothing_to_do(db):
    with pytest.raises(CommandError, match="nothing to do: pass --master") as failure:
        rotate_keys()
    assert failure.value.returncode == 1


def test_an_unknown_practice_is_an_error(riverside):
    with pytest.raises(CommandError, match="no practice with slug 'nowhere'"):
        rotate_keys("--practice", "nowhere")
    assert token_versions(riverside) == {1}


def test_a_practice_with_nothing_encrypted_is_an_error(db):
    make_practice("newclinic", "New Clinic")
    with pytest.raises(CommandError, match="no data key yet"):
        rotate_keys("--practice", "newclinic", "--no-progress")


def test_practice_and_all_practices_exclude_each_other(db):
    with pytest.raises(CommandError, match="not allowed with"):
        rotate_keys("--practice", "riverside", "--all-practices")


def test_a_nonsense_batch_size_is_an_error(riverside):
    with pytest.raises(CommandError, match="--batch-size"):
        rotate_keys("--practice", "riverside", "--batch-size", "0")


def test_master_rotation_from_the_command_line(db):
    old, new = new_master_key(), new_master_key()
    with override_settings(MASTER_KEYS=[old]):
        practice = make_practice("riverside")
        populate(practice, 2)
        before = snapshot(practice)
    new_kid, old_kid = LocalKEK.from_b64(new).kid, LocalKEK.from_b64(old).kid

    with override_settings(MASTER_KEYS=[new]):
        with pytest.raises(CommandError, match=f"{old_kid}.*CLINICLINE_PREVIOUS_MASTER_KEYS"):
            rotate_keys("--master", "--no-progress")
    with override_settings(MASTER_KEYS=[new, old]):
        out, _ = rotate_keys("--master", "--no-progress")
        assert out == f"master key {new_kid}: re-wrapped 2 data keys\n"
        out, _ = rotate_keys("--master", "--no-progress")
        assert out == (f"master key {new_kid}: every data key is already wrapped by it; "
                       "nothing to re-wrap\n")
    with override_settings(MASTER_KEYS=[new]):
        assert snapshot(practice) == before
    assert set(DataKey.objects.values_list("master_kid", flat=True)) == {new_kid}


def test_master_and_practice_rotation_in_one_run(riverside):
    new = new_master_key()
    with override_settings(MASTER_KEYS=[new, *settings.MASTER_KEYS]):
        out, _ = rotate_keys("--master", "--practice", "riverside", "--settle-seconds", "0",
                             "--no-progress")
    assert out.splitlines()[0].endswith("re-wrapped 2 data keys")
    assert out.splitlines()[1].startswith("practice riverside: rotated data key v1 -> v2")
    assert set(DataKey.objects.values_list("master_kid", flat=True)) == \
        {LocalKEK.from_b64(new).kid}
