"""The CSV upload, from the front desk's side: upload → preview (nothing imported, nothing
of the patient in the URL, the held rows sealed) → confirm → imported. A file that cannot
be read is a 400 that says why; fuzzed, it is never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.outreach import appointment_csv, reminders
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentUpload,
    Reminder,
    ReminderPolicy,
)
from tests.conftest import make_member, signed_in
from tests.outreach.support import dr_osei, walter

pytestmark = pytest.mark.django_db
HEADER = "external_id,mrn,provider,starts_at,location\n"


def local(days: int, clock: str = "09:30") -> str:
    return f"{(timezone.now() + dt.timedelta(days=days)).date().isoformat()} {clock}"


GOOD = (HEADER + f"A-1001,RFM-100142,Dr. Amara Osei,{local(10)},Main St office\n"
        + f"A-1002,RFM-100142,dr amara osei,{local(12, '14:00')},Main St office\n")


@pytest.fixture
def fatima(practice):
    """The front desk, who imports the schedule each morning."""
    walter(practice)
    dr_osei(practice)
    return signed_in(make_member(practice, Role.FRONT_DESK, "fatima"))


def upload(client, text: str | bytes, name: str = "schedule.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(reverse("appointments:import", kwargs={"practice": "riverside"}),
                       {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_preview_confirm_imports_and_a_second_import_changes_nothing(fatima):
    response = upload(fatima, GOOD)
    assert response.status_code == 302
    preview_url = response["Location"]
    assert "RFM" not in preview_url and "Osei" not in preview_url
    page = fatima.get(preview_url)
    assert page.status_code == 200
    assert "<strong>2</strong> new" in page.content.decode()
    assert not Appointment.objects.exists()  # a preview imports nothing
    held = AppointmentUpload.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rows FROM outreach_appointmentupload")
        assert "RFM-100142" not in cursor.fetchone()[0]  # sealed at rest

    confirmed = fatima.post(reverse("appointments:confirm", kwargs={
        "practice": "riverside", "upload": held.pk}))
    assert confirmed.status_code == 302
    assert Appointment.objects.count() == 2 and Reminder.objects.count() == 4
    assert not AppointmentUpload.objects.exists()
    listed = fatima.get(confirmed["Location"]).content.decode()
    assert "Imported: 2 new, 0 changed, 0 unchanged." in listed
    assert "Walter" not in listed  # the list links to the record; it names nobody

    again = fatima.get(upload(fatima, GOOD)["Location"]).content.decode()
    assert ("<strong>0</strong> new, <strong>0</strong> changed, "
            "<strong>2</strong> unchanged") in again
    assert "There is nothing new to import." in again


def test_the_preview_names_every_bad_line_by_its_number(fatima):
    text = (HEADER
            + f"A-1,RFM-100142,Dr. Amara Osei,{local(10)},Main St\n"
            + f"A-2,RFM-000001,Dr. Amara Osei,{local(10)},Main St\n"
            + f"A-3,RFM-100142,Dr. Who,{local(10)},Main St\n"
            + "A-4,RFM-100142,Dr. Amara Osei,next tuesday,Main St\n"
            + f"A-5,RFM-100142,Dr. Amara Osei,{local(-3)},Main St\n"
            + f"A-1,RFM-100142,Dr. Amara Osei,{local(11)},Main St\n"
            + "\n")
    page = fatima.get(upload(fatima, text)["Location"]).content.decode()
    for line, message in [
            (3, "Unknown patient"), (4, "Unknown provider"),
            (5, "The time is not a date and time"), (6, "The time is in the past."),
            (7, "The id A-1 is on an earlier line too.")]:
        assert f'<td data-label="Line">{line}</td><td data-label="Problem">{message}' in page


def test_a_spreadsheets_byte_order_mark_is_fine(fatima):
    response = upload(fatima, "\ufeff" + GOOD)
    assert response.status_code == 302


@pytest.mark.parametrize(("data", "says"), [
    (b"\xff\xfe\x00not utf-8", "not UTF-8"),
    (b"", "The submitted file is empty"),
    (b"\n\n", "The file is empty"),
    (b"external_id,mrn,starts_at\nA,B,C\n", "missing: provider"),
    (b"external_id,mrn,provider,starts_at,reason\n", "Unknown columns: reason"),
    (b"external_id,provider,starts_at\n", "Name the patient by an mrn column"),
    (HEADER.encode() + b'A-1,"RFM"x,Dr,2030-01-01 10:00,\n', "not valid CSV"),
    (HEADER.encode() + b"x" * (appointment_csv.MAX_BYTES + 1), "over 2 MB"),
])
def test_a_file_that_cannot_be_read_is_refused_whole_with_a_reason(fatima, data, says):
    response = upload(fatima, data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not AppointmentUpload.objects.exists()


def test_a_time_that_does_not_exist_in_the_practices_zone_is_a_bad_line(practice):
    tz = practice.tz
    assert "clocks go forward" in appointment_csv.local_time("2030-03-10 02:30", tz)
    assert appointment_csv.local_time("2030-03-10 09:30", tz) == dt.datetime(
        2030, 3, 10, 13, 30, tzinfo=dt.UTC)


def test_nobody_else_sees_an_upload(fatima, practice, other_admin):
    held_url = upload(fatima, GOOD)["Location"]
    colleague = signed_in(make_member(practice, Role.SCHEDULER, "sam"))
    assert colleague.get(held_url).status_code == 404
    biller = signed_in(make_member(practice, Role.BILLING, "biller"))
    assert biller.get(reverse("appointments:import",
                              kwargs={"practice": "riverside"})).status_code == 404
    outsider = signed_in(other_admin)
    assert outsider.get(held_url).status_code == 404
    assert outsider.get(held_url.replace("riverside", "lakeside")).status_code == 404


def test_the_practice_admin_sets_the_reminder_timing(practice):
    admin = signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))
    url = reverse("appointments:offsets", kwargs={"practice": "riverside"})
    assert admin.post(url, {"offsets": "3d, 4h"}).status_code == 302
    assert ReminderPolicy.objects.get().offsets_h == [72, 4]
    refused = admin.post(url, {"offsets": "soon"})
    assert refused.status_code == 400 and "is not a time such as 7d" in refused.content.decode()
    front_desk = signed_in(make_member(practice, Role.FRONT_DESK, "fatima"))
    assert front_desk.post(url, {"offsets": "1h"}).status_code == 404


def test_a_run_is_started_and_its_page_refreshes_until_it_is_done(fatima, practice):
    confirm_url = upload(fatima, HEADER + f"A-1,RFM-100142,Dr. Amara Osei,{local(3)},x\n")
    held = AppointmentUpload.objects.get()
    fatima.post(reverse("appointments:confirm", kwargs={"practice": "riverside",
                                                        "upload": held.pk}))
    assert confirm_url.status_code == 302
    page = fatima.get(reverse("appointments:reminders", kwargs={"practice": "riverside"}))
    assert "Send 1 due reminder now" in page.content.decode()
    started = fatima.post(reverse("appointments:start-run", kwargs={"practice": "riverside"}))
    running = fatima.get(started["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' in running and "0 of 1 reminder" in running
    reminders.advance_runs()
    done = fatima.get(started["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' not in done and "1 of 1 reminder (100%)" in done


CELLS = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(CELLS, min_size=1, max_size=7), max_size=6).map(
        lambda lines: "\n".join([HEADER.strip()] + [",".join(cells) for cells in lines])
        .encode()),
    st.lists(CELLS, min_size=1, max_size=8).map(lambda cells: ",".join(cells).encode())))
def test_no_upload_is_ever_a_500(fatima, data):
    response = upload(fatima, data)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert fatima.get(response["Location"]).status_code == 200
