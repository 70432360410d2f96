"""Done means: a copy of the database file alone reveals no patient.

The real `clinicline` command builds a new SQLite database with the demo practice, in
processes of their own; then the file (and its write-ahead log, if any) is read as bytes and
searched for every demo patient's identifiers in the forms a person would search for.
"""

from __future__ import annotations

import pytest

from clinicline.demo.seed import MESSAGES, PATIENTS, STAFF
from tests.vault.support import Install, new_demo_install

SHORT = 5  # needles this short may occur by chance in random ciphertext


@pytest.fixture(scope="module")
def demo_install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    return new_demo_install(tmp_path_factory.mktemp("at-rest"))


def needles(given: str, family: str, dob, phone: str, mrn: str) -> list[str]:
    national = phone.removeprefix("+1")
    return [given, family, mrn,
            dob.isoformat(), dob.strftime("%m/%d/%Y"), f"{dob.month}/{dob.day}/{dob.year}",
            dob.strftime("%Y%m%d"), phone, national,
            f"({national[:3]}) {national[3:6]}-{national[6:]}",
            f"{national[:3]}-{national[3:6]}-{national[6:]}"]


# What the demo's messages say, beyond the patients' identifiers: a medicine, a pharmacy,
# an account number, the caller's own words.
SAID = [value for _, _, fields in MESSAGES for value in fields.values()
        if isinstance(value, str) and not value.startswith("+")]


def leaks(data: bytes) -> list[str]:
    return [needle for given, family, dob, phone, mrn, _ in PATIENTS
            for needle in [*needles(given, family, dob, phone, mrn), *SAID]
            if needle.encode() in data]


def assert_no_leaks(install: Install, tmp_path_factory: pytest.TempPathFactory) -> None:
    found = leaks(install.bytes_at_rest())
    assert [needle for needle in found if len(needle) > SHORT] == []
    if found:
        # Only a short name ("Bell") can turn up by chance inside the file's ~10 kB of
        # random base64 (about once in a thousand runs). A real leak is in every install;
        # a chance match is not in a second, independent one.
        second = new_demo_install(tmp_path_factory.mktemp("second-opinion"))
        assert set(found) & set(leaks(second.bytes_at_rest())) == set()


def test_a_copy_of_the_database_reveals_no_patient(demo_install, tmp_path_factory):
    data = demo_install.bytes_at_rest()
    # The search reads the real file: what is meant to be plain (staff, the practice) is
    # there. Without this, an empty or unreadable file would pass.
    assert b"Riverside Family Medicine" in data
    assert all(first.encode() in data for _, first, *_ in STAFF)
    assert_no_leaks(demo_install, tmp_path_factory)


def test_the_search_would_find_a_patient_stored_in_the_clear():
    # The same search over a database row as it would look unencrypted.
    given, family, dob, phone, mrn, _ = PATIENTS[0]
    row = f"\x05\x17{given}{family}{dob:%Y-%m-%d}{mrn}\x00{phone}".encode()
    assert set(leaks(row)) >= {given, family, dob.isoformat(), mrn, phone,
                               phone.removeprefix("+1")}


def test_the_demo_patients_are_all_there_and_open(demo_install):
    # Encrypted, not lost: the same install opens every one of them.
    done = demo_install.run("shell", "-v", "0", "-c",
                            "from clinicline.patients.models import Patient; "
                            "print(sorted((p.given_name, p.family_name, str(p.date_of_birth), "
                            "p.mrn) for p in Patient.objects.all()))")
    assert done.returncode == 0, done.stderr
    expected = sorted((g, f, d.isoformat(), m) for g, f, d, _, m, _ in PATIENTS)
    assert done.stdout.strip().splitlines()[-1] == str(expected)


def test_rotating_the_demo_practice_keeps_it_readable_and_unreadable(demo_install,
                                                                    tmp_path_factory):
    done = demo_install.run("rotate-keys", "--practice", "demo", "--settle-seconds", "0",
                            "--no-progress")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("practice demo: rotated data key v1 -> v2")

    assert_no_leaks(demo_install, tmp_path_factory)
    test_the_demo_patients_are_all_there_and_open(demo_install)


@pytest.mark.parametrize(("args", "message"), [
    ((), "nothing to do: pass --master, --practice SLUG or --all-practices"),
    (("--practice", "nowhere"), "no practice with slug 'nowhere'"),
])
def test_the_command_fails_with_exit_code_1_and_says_why(demo_install, args, message):
    done = demo_install.run("rotate-keys", *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
