"""Shown times are the practice's wall clock, written for people: "Tue 1 Dec, 02:14 EST"."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import time_machine
from django.template import Context, Template

from clinicline.practices.templatetags.practice_time import local_time

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
AT = dt.datetime(2026, 12, 1, 7, 14, 9, tzinfo=dt.UTC)


def shown(source: str, zone: zoneinfo.ZoneInfo, **context: object) -> str:
    page = Template("{% load practice_time tz %}{% timezone zone %}" + source + "{% endtimezone %}")
    return page.render(Context({"zone": zone, **context}))


@time_machine.travel(AT, tick=False)
def test_a_time_in_the_practice_zone():
    assert local_time(AT, NEW_YORK) == "Tue 1 Dec, 02:14 EST"
    assert local_time(AT, LOS_ANGELES) == "Mon 30 Nov, 23:14 PST"
    assert local_time(AT, NEW_YORK, seconds=True) == "Tue 1 Dec, 02:14:09 EST"
    assert local_time(dt.datetime(2026, 7, 4, 16, 0, tzinfo=dt.UTC), NEW_YORK) == \
        "Sat 4 Jul, 12:00 EDT"


@time_machine.travel(AT, tick=False)
def test_another_year_says_its_year():
    assert local_time(dt.datetime(2025, 12, 2, 19, 0, tzinfo=dt.UTC), NEW_YORK) == \
        "Tue 2 Dec 2025, 14:00 EST"


@time_machine.travel(AT, tick=False)
def test_the_filter_takes_the_page_zone_and_reads_iso_strings():
    assert shown("{{ at|when }}", NEW_YORK, at=AT) == "Tue 1 Dec, 02:14 EST"
    assert shown("{{ at|when }}", NEW_YORK, at="2026-12-01T07:14:00+00:00") == \
        "Tue 1 Dec, 02:14 EST"
    assert shown('{{ at|when:"seconds" }}', LOS_ANGELES, at=AT) == "Mon 30 Nov, 23:14:09 PST"
    assert shown("{{ at|when }}", NEW_YORK, at="not a time") == ""
    assert shown("{{ at|when }}", NEW_YORK, at=None) == ""
