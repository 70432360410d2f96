"""The readers: each kind of number read from how callers write it, as a range in one
unit; negated mentions read nothing; numbers that are not that kind are not read as it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicline.triage.readers import Findings, read

WEDNESDAY_3PM = dt.datetime(2025, 3, 12, 15, 0)


def ranges(text: str, kind: str, at: dt.datetime | None = WEDNESDAY_3PM) -> list[tuple]:
    return [(r.low, r.high) for r in read([text], at).readings if r.kind == kind]


def groups(text: str) -> set[str]:
    return {r.group for r in read([text]).risks}


# text, kind, the one range read
READ = [
    # ages, in days: a range where the words are vague
    ("my 6 week old is hot", "age_days", (42, 48)),
    ("6wk old with a cough", "age_days", (42, 48)),
    ("our 10-month-old has a rash", "age_days", (304, 334)),
    ("my 3yo fell off the couch", "age_days", (1096, 1460)),
    ("3 y/o boy, vomiting", "age_days", (1096, 1460)),
    ("NEWBORN not feeding", "age_days", (0, 28)),
    ("she's 84 and dizzy", "age_days", (30681, 31045)),
    ("he is 84 years old", "age_days", (30681, 31045)),
    ("my 18 months has a fever", "age_days", (548, 578)),
    ("a 2 day old won't feed", "age_days", (2, 2)),
    ("baby is less than 2 weeks old", "age_days", (13, 13)),
    ("aged 67, on warfarin", "age_days", (24472, 24836)),
    # temperatures, in °F
    ("a fever of 104", "temperature_f", (104, 104)),
    ("temp 37.9", "temperature_f", (100.2, 100.2)),
    ("101.5F since noon", "temperature_f", (101.5, 101.5)),
    ("it read 38.6 °C", "temperature_f", (101.5, 101.5)),
    ("39,2 this morning", "temperature_f", (102.6, 102.6)),
    ("98.6 normal", "temperature_f", (98.6, 98.6)),
    ("Temperature: 102 degrees", "temperature_f", (102, 102)),
    ("fever over 103", "temperature_f", (103.1, 103.1)),
    ("temp 40 C", "temperature_f", (104, 104)),
    # blood pressure, sugar, oxygen
    ("190/120 on the home cuff", "systolic", (190, 190)),
    ("190/120 on the home cuff", "diastolic", (120, 120)),
    ("bp 85 over 50", "systolic", (85, 85)),
    ("blood pressure is 200", "systolic", (200, 200)),
    ("sugar is 45", "glucose_mg_dl", (45, 45)),
    ("glucose 400", "glucose_mg_dl", (400, 400)),
    ("bg 2.8 mmol", "glucose_mg_dl", (50, 50)),
    ("sugar 5.6", "glucose_mg_dl", (101, 101)),
    ("sugar is 25", "glucose_mg_dl", (25, 450)),  # mg/dL or mmol/L: both stand
    ("sats 88%", "spo2", (88, 88)),
    ("o2 89", "spo2", (89, 89)),
    ("oxygen level 90", "spo2", (90, 90)),
    ("92% on room air", "spo2", (92, 92)),
    # durations, in hours
    ("fever for three days", "duration_hours", (72, 72)),
    ("two hours of chest pain", "duration_hours", (2, 2)),
    ("vomiting all day", "duration_hours", (6, 16)),
    ("a week of cough", "duration_hours", (168, 168)),
    ("a few days", "duration_hours", (48, 96)),
    ("Pt c/o CP x 2 hrs", "duration_hours", (2, 2)),
    ("since last night", "duration_hours", (9, 21)),
    ("since Monday", "duration_hours", (39, 63)),
    ("since 9am", "duration_hours", (6, 6)),
    ("on and off for hours", "duration_hours", (2, 24)),
    # pregnancy and birth
    ("32 weeks pregnant", "pregnancy_weeks", (32, 32.86)),
    ("pregnant, at 36 weeks", "pregnancy_weeks", (36, 36.86)),
    ("38wks, contractions", "pregnancy_weeks", (38, 38.86)),
    ("I'm 36+3 weeks", "pregnancy_weeks", (36.43, 36.43)),
    ("had the baby 5 days ago", "postpartum_days", (5, 5)),
    ("gave birth last week", "postpartum_days", (3, 9)),
    ("2 weeks postpartum", "postpartum_days", (14, 20)),
    # a note that begins with the age, as clinicians write
    ("5 mo temp 39.2 since tea time", "age_days", (152, 182)),
    ("84yo M, chest pain", "age_days", (30681, 31045)),
    # numbers said in words (voicemail transcripts, callers who write as they speak)
    ("the thermometer says one hundred point four", "temperature_f", (100.4, 100.4)),
    ("his temperature is a hundred and two", "temperature_f", (102, 102)),
    ("a fever of thirty eight point nine", "temperature_f", (102, 102)),
    ("sats are ninety two percent", "spo2", (92, 92)),
    ("sugar is four hundred", "glucose_mg_dl", (400, 400)),
    ("blood pressure one eighty over one ten", "systolic", (180, 180)),
    ("blood pressure one eighty over one ten", "diastolic", (110, 110)),
    # Spanish (accents folded by the detector's normalize)
    ("el azúcar está en 500 y está vomitando", "glucose_mg_dl", (500, 500)),
    ("la glucosa de 45", "glucose_mg_dl", (45, 45)),
    ("la presión le salió de 85/50", "systolic", (85, 85)),
    ("el oxígeno está en 89", "spo2", (89, 89)),
    ("fiebre de 39.5", "temperature_f", (103.1, 103.1)),
    ("tiene fiebre de 39", "temperature_f", (102.2, 102.2)),
    ("mi hijo de 5 años", "age_days", (1826, 2190)),
    ("el bebé tiene 3 meses", "age_days", (91, 121)),
    ("bebé de 6 semanas de nacida", "age_days", (42, 48)),
    ("fiebre alta desde hace tres días", "duration_hours", (72, 72)),
    ("vomitando por 2 días", "duration_hours", (48, 48)),
]


@pytest.mark.parametrize("text,kind,expected", READ, ids=[r[0] for r in READ])
def test_a_reading_is_read_as_its_range(text, kind, expected):
    assert ranges(text, kind) == [pytest.approx(expected, abs=0.01)]


# text, kind: nothing of that kind may be read
NOT_READ = [
    ("3 days of fever", "age_days"),           # a duration, not a 3-day-old
    ("he is 3 days post op", "age_days"),
    ("for the past 18 months", "age_days"),
    ("a fever of 104", "age_days"),
    ("room 104, second floor", "temperature_f"),
    ("fever since 2 days", "temperature_f"),
    ("temp 50", "temperature_f"),              # no temperature in either unit
    ("my 3yo", "temperature_f"),
    ("call 555 1234", "temperature_f"),
    ("the appointment is 10/12", "systolic"),
    ("open 24/7", "systolic"),
    ("sugar free gum, 2 days", "glucose_mg_dl"),
    ("oxygen 2 liters", "spo2"),
    ("tylenol every 4 hours", "duration_hours"),
    ("call back in 2 hours", "duration_hours"),
    ("6 weeks old", "duration_hours"),         # an age is no duration
    ("32 weeks pregnant", "duration_hours"),
    ("cough for 2 wks", "pregnancy_weeks"),    # no pregnancy in sight
    ("my meds were delivered 2 days ago", "postpartum_days"),
    ("el azúcar está en 500 y está vomitando", "duration_hours"),  # "y" is "and"
    ("3 d of cough", "duration_hours"),         # a one-letter unit is written against its number
    ("2 wks fever", "age_days"),                # at the start, a span more often than an age
    ("3 days of fever, no rash", "age_days"),
    ("tiene 3 días con fiebre", "age_days"),    # "has had 3 days of fever"
    ("took it at one thirty", "systolic"),      # a time, not a reading
    ("at one thirty her temp was normal", "temperature_f"),
]


@pytest.mark.parametrize("text,kind", NOT_READ, ids=[n[0] for n in NOT_READ])
def test_a_number_that_is_not_that_kind_is_not_read_as_it(text, kind):
    assert ranges(text, kind) == []


NEGATED = [
    ("no fever over 100.4", "temperature_f"),
    ("hasn't had a temp above 101", "temperature_f"),
    ("not 32 weeks pregnant", "pregnancy_weeks"),
    ("no bp 190/120 readings", "systolic"),
]


@pytest.mark.parametrize("text,kind", NEGATED, ids=[n[0] for n in NEGATED])
def test_a_negated_reading_reads_nothing(text, kind):
    assert ranges(text, kind) == []


def test_a_measured_value_after_a_denied_list_still_stands():
    assert ranges("denies cough, fever, sats 88%", "spo2") == [(88, 88)]
    assert ranges("no cough. temp 104", "temperature_f") == [(104, 104)]


def test_without_the_moment_a_relative_span_is_read_at_its_widest():
    assert ranges("since last night", "duration_hours", at=None) == [(1, 36)]
    assert ranges("since Monday", "duration_hours", at=None) == [(1, 192)]


def test_since_a_weekday_counts_back_to_the_last_one():
    monday_9am = dt.datetime(2025, 3, 10, 9, 0)
    assert ranges("since Monday", "duration_hours", at=monday_9am) == [(0, 177)]
    assert ranges("since Sunday", "duration_hours", at=monday_9am) == [(9, 33)]


# text, groups it names
RISKS = [
    ("she takes warfarin", {"anticoagulant"}), ("on Coumadin", {"anticoagulant"}),
    ("Jantoven 5 mg", {"anticoagulant"}), ("apixaban", {"anticoagulant"}),
    ("ELIQUIS twice a day", {"anticoagulant"}), ("xarelto", {"anticoagulant"}),
    ("rivaroxaban", {"anticoagulant"}), ("dabigatran", {"anticoagulant"}),
    ("pradaxa", {"anticoagulant"}), ("edoxaban", {"anticoagulant"}),
    ("savaysa", {"anticoagulant"}), ("lovenox shots", {"anticoagulant"}),
    ("enoxaparin", {"anticoagulant"}), ("heparin", {"anticoagulant"}),
    ("fondaparinux", {"anticoagulant"}), ("he's on blood thinners", {"anticoagulant"}),
    ("plavix", {"antiplatelet"}), ("clopidogrel", {"antiplatelet"}),
    ("prasugrel", {"antiplatelet"}), ("Brilinta", {"antiplatelet"}),
    ("ticagrelor", {"antiplatelet"}),
    *[(f"uses {b}", {"insulin"}) for b in (
        "Lantus", "Levemir", "Tresiba", "Humalog", "Novolog", "Basaglar", "Toujeo", "Fiasp",
        "Apidra", "Humulin", "Novolin", "Admelog", "Lyumjev", "insulin")],
    *[(f"takes {d}", {"anti-seizure"}) for d in (
        "levetiracetam", "Keppra", "lamotrigine", "Lamictal", "valproate", "Depakote",
        "phenytoin", "Dilantin", "carbamazepine", "Tegretol", "oxcarbazepine", "lacosamide",
        "topiramate", "seizure meds")],
    *[(f"on {d}", {"immunosuppressed"}) for d in (
        "tacrolimus", "Prograf", "mycophenolate", "CellCept", "cyclosporine", "sirolimus",
        "azathioprine", "chemo")],
    ("kidney transplant in 2019", {"immunosuppressed"}), ("he has HIV", {"immunosuppressed"}),
    ("she has no spleen", {"immunosuppressed"}),
    *[(f"takes {d}", {"steroids"}) for d in (
        "prednisone", "prednisolone", "dexamethasone", "hydrocortisone daily")],
    ("I'm pregnant", {"pregnant"}), ("32 weeks pregnant", {"pregnant"}),
    ("had the baby 5 days ago", {"postpartum"}), ("gave birth last week", {"postpartum"}),
    ("had my knee replaced 2 weeks ago", {"recent-surgery"}),
    ("colonoscopy yesterday", {"recent-surgery"}), ("c-section on Friday", {"recent-surgery"}),
    ("he's on dialysis", {"dialysis"}), ("she has sickle cell", {"sickle-cell"}),
]


@pytest.mark.parametrize("text,expected", RISKS, ids=[r[0] for r in RISKS])
def test_a_risk_group_is_named_by_brand_generic_or_words(text, expected):
    assert expected <= groups(text)


NO_RISK = ["not on blood thinners", "denies HIV", "never had surgery", "not pregnant",
           "no history of chemo", "negative pregnancy test", "hydrocortisone cream for a rash",
           "had my knee replaced 10 years ago", "sickle cell trait", "hair transplant",
           "hearing aids"]


@pytest.mark.parametrize("text", NO_RISK)
def test_a_negated_or_unrelated_mention_names_no_group(text):
    assert groups(text) == set()


def test_readings_are_described_for_people():
    found = read(["my 7 week old has a fever of 38.6 °C, on warfarin"], WEDNESDAY_3PM)
    assert [r.describe() for r in found.readings] == [
        "age 7 weeks", "temperature 38.6 °C (101.5 °F)"]
    assert [r.describe() for r in found.risks] == ["warfarin (anticoagulant)"]


def test_no_text_finds_nothing():
    assert read([]) == Findings() == read(["", "Please call me back about my bill."])


CELSIUS = st.decimals(min_value="34.0", max_value="43.5", places=1)
FAHRENHEIT = st.decimals(min_value="93.0", max_value="110.0", places=1)


@given(value=st.one_of(CELSIUS.map(lambda v: (v, "c")), FAHRENHEIT.map(lambda v: (v, "f"))),
       form=st.sampled_from(["temp {v}", "a fever of {v}", "{v}{u}", "{v} {u}", "{v}°{u}",
                             "{v} °{U}", "{v} degrees {u}", "T {v}", "temperature: {v}",
                             "it read {c}", "{v} this morning"]))
def test_any_temperature_in_any_accepted_form_round_trips(value, form):
    v, unit = value
    text = form.format(v=v, u=unit, U=unit.upper(), c=str(v).replace(".", ","))
    expected = float(v) * 9 / 5 + 32 if unit == "c" else float(v)
    assert ranges(text, "temperature_f") == [pytest.approx((expected, expected), abs=0.06)]
