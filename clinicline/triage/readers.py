"""Readers for the numbers and qualifiers that change a priority: ages, temperatures, blood
pressure, blood sugar, oxygen saturation, durations, weeks of pregnancy, days since a
birth, and the risk groups of ``triage.risks``.

Pure and deterministic: ``read(texts, at)`` is a function of the words and of the moment
they were taken (``at``, the practice's local time, passed in: "since Monday" needs it; no
clock is read here). Each reading is a range ``low``–``high`` in one unit (°F, mmHg, mg/dL,
%, days, weeks, hours), because callers are vague: "newborn" is 0–28 days, "6 weeks old"
42–48 days, "a few days" 48–120 hours. A protocol condition fires when a reading's range
reaches its bound, so an uncertain reading always counts the way that raises a priority:
``at_least`` looks at ``high``, ``at_most`` at ``low`` (see ``Findings.reaching``).

* A number is read only with what makes it that kind of number: "3 days of fever" is a
  duration and never an age; "104" alone is nothing, "a fever of 104" a temperature.
* Temperatures with a unit are read in it; without one, 34–43.5 is °C and 93–110 °F, and
  anything else is no temperature. A decimal in those ranges ("98.6", "37,9") is one.
* A glucose with no unit and no decimal point at or under 33 may be mmol/L or mg/dL: both
  are kept (its range covers both). mmol/L is converted (× 18).
* "over 104" reads as a little over 104, "under 90" as a little under 90; "almost 104" as
  104.
* Negation is the detector's (``detector.negated_mentions``), judged within the reading's
  own clause: "no fever over 100.4" reads nothing, while "denies cough, sats 88%" reads
  88% (a measured value is not an item of a denied list).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from clinicline.triage import risks
from clinicline.triage.detector import negated_mentions, normalize
from clinicline.triage.risks import Risk

# kind: (the unit, the smallest and largest value a protocol may compare it with)
KINDS: dict[str, tuple[str, float, float]] = {
    "temperature_f": ("°F", 90, 110), "systolic": ("mmHg", 40, 300),
    "diastolic": ("mmHg", 20, 200), "glucose_mg_dl": ("mg/dL", 10, 1000),
    "spo2": ("%", 50, 100), "age_days": ("days", 0, 45_000),
    "pregnancy_weeks": ("weeks", 0, 45), "postpartum_days": ("days", 0, 730),
    "duration_hours": ("hours", 0, 100_000)}
LABELS = {"temperature_f": "temperature", "systolic": "blood pressure",
          "diastolic": "blood pressure", "glucose_mg_dl": "blood sugar", "spo2": "oxygen",
          "age_days": "age", "pregnancy_weeks": "pregnant", "postpartum_days": "gave birth",
          "duration_hours": ""}
STEP = {"temperature_f": 0.1}  # "over 104" is 104.1 °F; "under 90" is 89%


@dataclass(frozen=True)
class Reading:
    kind: str
    low: float
    high: float
    shown: str  # for people: "38.6 °C (101.5 °F)", "6 weeks", "190/120"

    def describe(self) -> str:
        return f"{LABELS[self.kind]} {self.shown}".strip()


@dataclass(frozen=True)
class Findings:
    readings: tuple[Reading, ...] = ()
    risks: tuple[Risk, ...] = ()

    def reaching(self, kind: str, at_least: float | None,
                 at_most: float | None) -> Reading | None:
        """The first reading of ``kind`` whose range reaches the bounds given."""
        return next((r for r in self.readings if r.kind == kind
                     and (at_least is None or r.high >= at_least)
                     and (at_most is None or r.low <= at_most)), None)

    def risk(self, group: str) -> Risk | None:
        return next((r for r in self.risks if r.group == group), None)


def read(texts: Iterable[str], at: dt.datetime | None = None) -> Findings:
    """Everything the readers find, not negated, in any of ``texts``."""
    readings: list[Reading] = []
    found: list[Risk] = []
    for raw in texts:
        text = normalize(raw)
        # Read in lower case with case-sensitive patterns: re's IGNORECASE costs 3-4 times.
        readings.extend(_read(spoken_numbers(text.lower()), at))
        found.extend(risks.risks(text))
    found.extend(Risk(group, words) for group, words in _implied(readings, found))
    return Findings(tuple(readings), tuple(found))


# --- numbers said in words ------------------------------------------------------------
# A voicemail transcript, or a caller who writes as they speak, says "one hundred point
# four" and "ninety two percent". Compound numbers are written as digits before the readers
# run; single words ("three days") are read by the readers themselves.
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9}
_DIGITS = {"zero": 0, "oh": 0, "o": 0, **_UNITS}
_TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
          "twenty": 20, **_TENS}
_U, _D, _T = "|".join(_UNITS), "|".join(_DIGITS), "|".join(_TEENS)
_SPOKEN = re.compile(
    rf"(?<!\w)(?:(?P<hundred>(?:a |one |(?P<mult>{_U}) )?hundred)(?: and)?"
    rf"(?: (?P<hu>{_U}|{_T})(?: (?P<hu2>{_U}))?)?"
    # "one eighty over one ten": a reading of one hundred and something, said as people
    # say it; never after "at", "by" or "until" ("at one thirty" is a time).
    rf"|(?<!at )(?<!by )(?<!until )(?<!since )(?<!around )(?P<one>one) (?P<ou>{_T})"
    rf"(?: (?P<ou2>{_U}))?"
    rf"|(?P<tens>{'|'.join(_TENS)})(?: (?P<tu>{_U}))?)(?: point (?P<d>{_D}))?(?!\w)")


def spoken_numbers(text: str) -> str:
    """``text`` with compound numbers said in words written as digits."""
    if "hundred" not in text and "ty" not in text:
        return text  # most texts: no compound number to write
    return _SPOKEN.sub(_digits, text)


def _digits(m: re.Match[str]) -> str:
    if m["hundred"]:
        value = 100 * _UNITS.get(m["mult"] or "one", 1) + (
            _TEENS.get(m["hu"] or "", 0) or _UNITS.get(m["hu"] or "", 0)) \
            + _UNITS.get(m["hu2"] or "", 0)
    elif m["one"]:
        value = 100 + _TEENS[m["ou"]] + _UNITS.get(m["ou2"] or "", 0)
    else:
        value = _TENS[m["tens"]] + _UNITS.get(m["tu"] or "", 0)
    return f"{value}.{_DIGITS[m['d']]}" if m["d"] else str(value)


def _implied(readings: list[Reading], found: list[Risk]) -> Iterator[tuple[str, str]]:
    """Weeks of pregnancy and days since a birth put the patient in their group."""
    have = {r.group for r in found}
    for group, kind in (("pregnant", "pregnancy_weeks"), ("postpartum", "postpartum_days")):
        reading = next((r for r in readings if r.kind == kind), None)
        if reading is not None and group not in have:
            yield group, reading.describe()


# --- numbers and words ----------------------------------------------------------------

_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
          "fourteen": 14, "eighteen": 18, "twenty": 20, "thirty": 30, "half a": 0.5,
          "half an": 0.5,
          # Spanish, as callers write it (accents folded); "once" (11) is left out: in
          # English it is a count of times.
          "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
          "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "doce": 12,
          "quince": 15, "veinte": 20, "treinta": 30, "media": 0.5, "medio": 0.5}
_SPANISH_NUMBERS = frozenset({"un", "una", "uno", "dos", "tres", "cuatro", "cinco", "seis",
                              "siete", "ocho", "nueve", "diez", "doce", "quince", "veinte",
                              "treinta", "media", "medio"})
_VAGUE = {"couple": (2, 3), "couple of": (2, 3), "a couple": (2, 3), "a couple of": (2, 3),
          "few": (2, 4), "a few": (2, 4), "several": (3, 7)}
_N = (r"(?P<n>\d{1,3}(?:[.,]\d)?|half an?|a couple(?: of)?|couple(?: of)?|a few|few|several|"
      r"an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|"
      r"eighteen|twenty|thirty|"
      r"una?|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|quince|veinte|"
      r"treinta|media|medio)")
_UNIT = (r"(?P<unit>min(?:ute)?s?|h(?:ou)?rs?|hours?|h|days?|d|nights?|weeks?|wks?|w|"
         r"months?|mos?|mths?|years?|yrs?|y|"
         r"minutos?|horas?|dias?|noches?|semanas?|mes(?:es)?|anos?)")
_HOURS = {"m": 1 / 60, "h": 1, "d": 24, "n": 24, "w": 168, "mo": 730, "mt": 730, "y": 8766}
_DAYS = {"d": (1, 0), "n": (1, 0), "w": (7, 6), "mo": (30.44, 30), "mt": (30.44, 30),
         "y": (365.25, 364)}
_NAMES = {"m": "minute", "h": "hour", "d": "day", "n": "night", "w": "week", "mo": "month",
          "mt": "month", "y": "year"}


# Spanish units by their first letters: "mes" is a month, "semana" a week, "año" a year.
_SPANISH_UNITS = {"me": "mo", "se": "w", "an": "y", "ho": "h", "di": "d", "no": "n"}


def _unit(word: str) -> str:
    word = word.lower()
    if word.startswith("min"):
        return "m"
    if word[:2] in ("mo", "mt"):
        return word[:2]
    if len(word) > 2 and word[:2] in _SPANISH_UNITS and not word.startswith(("day", "hou")):
        return _SPANISH_UNITS[word[:2]]
    return word[0]


def _quantity(word: str) -> tuple[float, float]:
    word = word.lower()
    if word in _VAGUE:
        return _VAGUE[word]
    value = _WORDS.get(word)
    if value is None:
        value = float(word.replace(",", "."))
    return value, value


def _amount(n: str, unit: str) -> str:
    name = _NAMES[_unit(unit)]
    if n.lower() in _SPANISH_NUMBERS:  # shown in the reader's words: "for 3 days"
        n = f"{_WORDS[n.lower()]:g}"
    return f"{n} {name}" if _quantity(n) == (1, 1) else f"{n} {name}s"


_CLAUSE = re.compile(r"[;!?\n]|[.,](?!\d)")
_SENTENCE = re.compile(r"[;!?\n]|\.(?!\d)")


def _standing(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    """For each span: not negated within its own clause (see the module's docstring)."""
    out = []
    for start, end in spans:
        begin = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
        stop = _SENTENCE.search(text, end)
        clause = text[begin:stop.start() if stop else len(text)]
        out.append(not negated_mentions(clause, [(start - begin, end - begin)])[0])
    return out


_ABOVE = r"over|above|more than|higher than|greater than|>|at least|up to|almost|nearly"
_BELOW = r"under|below|less than|lower than|younger than|<|not yet"
_CMP = rf"(?:(?P<cmp>{_ABOVE}|{_BELOW}) ?)?"
_BELOW_RE = re.compile(_BELOW)
_EXACT = frozenset({"at least", "up to", "almost", "nearly"})


def _compared(kind: str, cmp: str | None, low: float, high: float) -> tuple[float, float]:
    if not cmp or cmp.lower() in _EXACT:
        return low, high
    step = STEP.get(kind, 1)
    if _BELOW_RE.fullmatch(cmp.lower()):
        return round(low - step, 1), round(low - step, 1)
    return round(high + step, 1), round(high + step, 1)


def _said(m: re.Match[str], shown: str) -> str:
    """What was read, with its comparison: "over 104 °F"."""
    cmp = m.groupdict().get("cmp")
    return f"{cmp.lower()} {shown}" if cmp else shown


# --- the readers: each yields (start, end, reading) on normalized text ------------------

Found = Iterator[tuple[int, int, Reading]]
# "sugar 2 days ago", "temp 100 for 2 days": a number followed by one of these is no reading.
# The words between a name and its number include Spanish ones: "el azúcar está en 500".
_NOT_UNIT = (r"(?! ?(?:days?|hours?|hrs?|h|weeks?|wks?|months?|years?|yrs?|times?|x|pills?|"
             r"units?|u|tablets?|mins?|minutes?|am|pm|a\.m\.|p\.m\.|o'?clock|cups?|grams?|g|"
             r"mg(?! ?/ ?dl)|ml|lbs?|pounds?|kg|miles?|doses?)(?!\w))")
_FILL = r"(?:[ :=~]+(?:is|was|are|were|of|at|about|around|reads?|read|says|said|shows?|showed|" \
        r"came back|came up|went up to|reached|reaching|has been|been|now|still|just|" \
        r"only|high|low|a|an|as high as|as low as|today|tonight|this morning|" \
        r"esta|estaba|en|de|es|le|me|salio|marca|marco|tiene|tenia|alta|baja))*[ :=~]*"


def _phrase(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.,/]){pattern}")


_TEMP = _phrase(rf"{_CMP}(?P<v>(?>\d{{2,3}}(?:[.,]\d{{1,2}})?))(?![.,]?\d){_NOT_UNIT}"
                r"(?P<unit> ?(?:°|º|˚|degrees?|degs?)?\.? ?(?:f|fahrenheit|c|celsius|centigrade)"
                r"(?!\w)| ?(?:°|º|˚|degrees?|degs?)(?!\w))?(?![\w%/])")
_TEMP_CONTEXT = re.compile(r"(?<!\w)(?:temp(?:erature)?s?|t|tmax|fevers?|febrile|"
                           r"thermometer|spik\w*|running|burning up|hot|"
                           r"fiebre|temperatura|calentura|termometro)(?:\W+[\w.,]+){0,4}"
                           r"\W*$")


def temperatures(text: str) -> Found:
    for m in _TEMP.finditer(text):
        value, unit = float(m["v"].replace(",", ".")), (m["unit"] or "").strip().lower()
        scale = "f" if unit.endswith(("f", "fahrenheit")) else "c" if unit.endswith(
            ("c", "celsius", "centigrade")) else ""
        if not scale:
            scale = "c" if 34 <= value <= 43.5 else "f" if 93 <= value <= 110 else ""
        plausible = (30 <= value <= 45) if scale == "c" else (86 <= value <= 113)
        said = unit or "." in m["v"] or "," in m["v"] or _TEMP_CONTEXT.search(
            text, 0, m.start())
        if not scale or not plausible or not said:
            continue
        f = round(value * 9 / 5 + 32, 1) if scale == "c" else value
        shown = f"{m['v']} °C ({f:.1f} °F)" if scale == "c" else f"{m['v']} °F"
        low, high = _compared("temperature_f", m["cmp"], f, f)
        yield m.start(), m.end(), Reading("temperature_f", low, high, _said(m, shown))


_BP = _phrase(r"(?P<s>\d{2,3}) ?(?:/|over) ?(?P<d>\d{2,3})(?![\d/])")
_BP_ONE = _phrase(rf"(?P<which>bp|b/p|blood pressure|pressure|systolic|diastolic|presion(?: "
                  rf"arterial)?|sistolica|diastolica){_FILL}{_CMP}"
                  r"(?P<v>\d{2,3})(?![\d/]| ?over \d)" + _NOT_UNIT)


def blood_pressures(text: str) -> Found:
    for m in _BP.finditer(text):
        s, d = int(m["s"]), int(m["d"])
        if 60 <= s <= 300 and 30 <= d <= 200 and s > d:
            shown = f"{s}/{d}"
            yield m.start(), m.end(), Reading("systolic", s, s, shown)
            yield m.start(), m.end(), Reading("diastolic", d, d, shown)
    for m in _BP_ONE.finditer(text):
        kind = "diastolic" if m["which"].lower().startswith("diast") else "systolic"
        v = int(m["v"])
        if 40 <= v <= 300:
            low, high = _compared(kind, m["cmp"], v, v)
            yield m.start("v"), m.end(), Reading(kind, low, high, _said(m, m["v"]))


_GLUCOSE = _phrase(r"(?:(?:blood )?(?:sugars?|glucose|bgl?|bsl?|cbg|fsbs|fsbg)|finger ?stick|"
                   rf"glucometer|meter|dexcom|libre|cgm|azucar|glucosa|glucemia|glucometro)"
                   rf"{_FILL}{_CMP}"
                   rf"(?P<v>\d{{1,3}}(?:[.,]\d)?)(?![\d/%]){_NOT_UNIT}"
                   r"(?: ?(?P<unit>mg(?: ?/ ?dl)?|mmol(?: ?/ ?l)?|mm)(?!\w))?")
_GLUCOSE_UNIT = _phrase(rf"{_CMP}(?P<v>\d{{1,3}}(?:[.,]\d)?) ?(?P<unit>mg ?/ ?dl|mmol ?/ ?l|mmol)"
                        r"(?!\w)")


def glucoses(text: str) -> Found:
    seen: set[int] = set()
    for m in [*_GLUCOSE.finditer(text), *_GLUCOSE_UNIT.finditer(text)]:
        if m.start("v") in seen:
            continue
        seen.add(m.start("v"))
        v, unit = float(m["v"].replace(",", ".")), (m["unit"] or "").lower()
        low: float
        high: float
        if unit.startswith("mm") or (not unit and (v != int(v) or v < 20)):
            low = high = round(v * 18.0)  # mg/dL are whole; a meter in mg/dL says LO under 20
        elif unit or v > 33:
            low = high = v
        else:  # "sugar is 25": 25 mg/dL or 25 mmol/L (450 mg/dL); both stand
            low, high = v, round(v * 18)
        if 1 <= low and high <= 1500:
            shown = f"{m['v']} {'mmol/L' if unit.startswith('mm') else 'mg/dL' if unit else ''}"
            low, high = _compared("glucose_mg_dl", m["cmp"], low, high)
            yield m.start("v"), m.end(), Reading("glucose_mg_dl", low, high,
                                                 _said(m, shown.strip()))


_SPO2 = _phrase(r"(?:sats?|saturations?|satting|spo2|sp o2|o2 sats?|o2 saturation|o2 levels?|o2|"
                r"oxygen(?: levels?| saturation| sats?)?|pulse ?ox(?:imeter)?|oximeter|"
                rf"oximetry|oxigeno|saturacion|oximetro){_FILL}{_CMP}"
                rf"(?P<v>\d{{2,3}}(?:[.,]\d)?)(?: ?%)?(?![\d/]){_NOT_UNIT}")
_SPO2_AFTER = _phrase(rf"{_CMP}(?P<v>\d{{2,3}}) ?%(?= (?:on )?(?:room air|ra|o2|oxygen|sats?)\b)")


def saturations(text: str) -> Found:
    seen: set[int] = set()
    for m in [*_SPO2.finditer(text), *_SPO2_AFTER.finditer(text)]:
        v = float(m["v"].replace(",", "."))
        if 50 <= v <= 100 and m.start("v") not in seen:
            seen.add(m.start("v"))
            low, high = _compared("spo2", m["cmp"], v, v)
            yield m.start("v"), m.end(), Reading("spo2", low, high, _said(m, f"{m['v']}%"))


_AGE_UNIT = (r"(?P<unit>days?|d|weeks?|wks?|wk|w|months?|mos?|mths?|years?|yrs?|yr|y|"
             r"dias?|semanas?|mes(?:es)?|anos?)(?!\w)")
_ES_PERSON = (r"hij[oa]s?|nin[oa]s?|bebes?|bebit[oa]s?|niet[oa]s?|sobrin[oa]s?|herman[oa]s?|"
              r"hermanit[oa]s?|chamac[oa]s?|muchach[oa]s?|nene|nena|mama|papa|abuel[oa]s?|"
              r"espos[oa]|senora?|paciente")
_PERSON = (r"son|daughter|baby|babies|boy|girl|child|kid|toddler|infant|twins?|grandson|"
           r"granddaughter|nephew|niece|brother|sister|old")
_AGES = [
    _phrase(rf"{_CMP}{_N} ?{_AGE_UNIT}\.? ?old(?!\w)"),  # 6 week old
    _phrase(rf"{_CMP}{_N} ?(?:yo|y/o|y\.o\.?|yrs? old|(?P<unit>m|mo|w|wk|d)/o)(?!\w)"),  # 3yo
    _phrase(rf"(?:my|our|his|her|their|your) {_N} ?{_AGE_UNIT}(?= (?:{_PERSON})\b|"
            r" ?(?:[,.;:!?)]|$)| (?:has|had|is|was|with|and)\b)"),  # my 18 months
    _phrase(rf"(?:he|she|they|patient|pt|son|daughter|baby|child|mom|mum|dad|mother|father|"
            rf"grandma|grandpa|husband|wife)(?:'s|s| is| was| who is) (?:only |just |about )?"
            rf"{_CMP}{_N}(?: {_AGE_UNIT}(?! (?:pregnant|along|ago|post|after|of|since|late|"
            r"overdue|early|gestation))| ?(?=$|[,.;:!?)]| (?:and|but|with|now|today|yo)\b))"),
    _phrase(rf"(?:age|aged|age:) {_CMP}{_N}(?: ?{_AGE_UNIT})?(?!\w)"),        # aged 84
    # A note that begins with the age, as clinicians write: "5 mo temp 39.2", "84yo M".
    # Only month and year abbreviations: "2 wks fever" at the start is more often a span.
    _phrase(rf"^(?:pt |patient )?{_N} ?(?P<unit>mos?|mths?|m|yrs?|y)(?= (?!ago|of|for|"
            r"and|now|later|since|x|before|after)[a-z])"),
    # Spanish: "mi hijo de 5 años", "tiene 3 meses", "bebé de 6 semanas de nacida".
    _phrase(rf"(?:{_ES_PERSON}) (?:de|tiene|que tiene|con) {_N} {_AGE_UNIT}"),
    _phrase(rf"tiene {_N} (?P<unit>anos?|mes(?:es)?)(?!\w)"),
    _phrase(rf"{_N} {_AGE_UNIT} de (?:edad|nacid[oa]|vida)(?!\w)"),
]
_NEWBORN = _phrase(r"(?:new ?borns?|neonat(?:e|es|al)|(?:just|only) born|born (?:yesterday|today|"
                   r"this morning|last night))(?!\w)")


def ages(text: str) -> Found:
    seen: set[int] = set()
    for pattern in _AGES:
        for m in pattern.finditer(text):
            if m.start("n") in seen:
                continue
            seen.add(m.start("n"))
            unit = m["unit"] or "y"
            per, extra = _DAYS["mo" if unit.lower() == "m" else _unit(unit)]  # 6 m/o
            n_low, n_high = _quantity(m["n"])
            low, high = _compared("age_days", m.groupdict().get("cmp"), round(n_low * per),
                                  round(n_high * per + extra))
            yield m.start(), m.end(), Reading("age_days", max(low, 0), high,
                                              _said(m, _amount(m["n"], unit)))
    for m in _NEWBORN.finditer(text):
        yield m.start(), m.end(), Reading("age_days", 0, 28, "newborn")


_PREGNANT_NEAR = re.compile(r"pregnan|(?<!\w)(?:preg|pg|ga|ob|obgyn|midwife|expecting|"
                            r"contractions?|labou?r|waters?|due date|trimester|fetal|foetal|"
                            r"baby (?:is )?(?:moving|kicking))(?!\w)")
_WEEKS = (r"(?P<w>\d{1,2})(?: ?w ?(?P<d2>\d) ?d| ?(?:\+ ?(?P<d>\d))? ?(?:weeks?|wks?|w)"
          r"(?: (?:and )?(?P<d3>\d) days?)?)")
_PREGNANCY = [
    _phrase(rf"{_WEEKS}\.? (?:pregnant|along|gestation|gestational|ga|pg|preg)(?!\w)"),
    _phrase(rf"(?:pregnant|preg|pg|ga|gestation)(?: at| with| about| nearly)? {_WEEKS}(?!\w)"),
]
_WEEKS_ONLY = _phrase(rf"(?:(?P<lead>at|i'm|im|i am|she's|she is|about|nearly|almost) )?"
                      rf"{_WEEKS}(?!\w)(?! old| ago| of)")
_FOR_WORDS = re.compile(r"(?:for|past|last|x|since|every|in|within|over|next)\W*$")


def pregnancies(text: str) -> Found:
    found = [m for p in _PREGNANCY for m in p.finditer(text)]
    near = _PREGNANT_NEAR.search(text) is not None
    # "38wks" alone is a pregnancy from 20 weeks on; shorter spans need a pregnancy nearby.
    found += [m for m in _WEEKS_ONLY.finditer(text) if (near or int(m["w"]) >= 20)
              and (m["lead"] or not _FOR_WORDS.search(text, max(0, m.start() - 8), m.start()))]
    seen: set[int] = set()
    for m in found:
        weeks, days = int(m["w"]), m["d"] or m["d2"] or m["d3"]
        if not 3 <= weeks <= 44 or m.start("w") in seen:
            continue
        seen.add(m.start("w"))
        low, high = (weeks + int(days) / 7,) * 2 if days else (weeks, weeks + 6 / 7)
        shown = f"{weeks}+{days} weeks" if days else f"{weeks} weeks"
        yield m.start(), m.end(), Reading("pregnancy_weeks", round(low, 2), round(high, 2),
                                          shown)


_BIRTH = (r"(?:(?:had|delivered|gave birth to) (?:the |my |a |our |her )(?:baby|babies|twins|son|"
          r"daughter)|gave birth|(?:i|she|we) delivered|delivered (?:by c section|vaginally)|"
          r"(?:had )?(?:a |my |her )?c section)(?: by c section| vaginally)?")
_POSTPARTUM = [
    _phrase(rf"{_BIRTH} (?:about |only |just )?{_N} "
            rf"{_UNIT}\.? ago(?!\w)"),
    _phrase(rf"{_N} {_UNIT}\.? (?:post ?partum|pp|post ?natal|after (?:giving birth|delivery|"
            r"the birth|having (?:the|my|a|her) baby|(?:my |her |the )?c section))(?!\w)"),
]
_BIRTH_WHEN = _phrase(rf"{_BIRTH} (?P<when>yesterday|last night|"
                      r"this morning|today|last week)(?!\w)")
_WHEN_DAYS = {"yesterday": (1, 1), "last night": (0, 1), "this morning": (0, 0),
              "today": (0, 0), "last week": (1, 13)}


def postpartum(text: str, at: dt.datetime | None) -> Found:
    for pattern in _POSTPARTUM:
        for m in pattern.finditer(text):
            unit = _unit(m["unit"])
            if unit in ("m", "h"):
                low, high = 0.0, 0.0
            else:
                per, extra = _DAYS[unit]
                n_low, n_high = _quantity(m["n"])
                low, high = round(n_low * per), round(n_high * per + extra)
            yield m.start(), m.end(), Reading("postpartum_days", low, high,
                                              f"{_amount(m['n'], m['unit'])} ago")
    for m in _BIRTH_WHEN.finditer(text):
        when = m["when"].lower()
        low, high = _WHEN_DAYS[when]
        if when == "last week" and at is not None:
            low, high = at.weekday() + 1, at.weekday() + 7
        yield m.start(), m.end(), Reading("postpartum_days", low, high, when)


_DURATION = _phrase(rf"{_CMP}{_N}(?: |-)?{_UNIT}(?!\w)(?! old| pregnant| along| gestation)")
_NOT_A_SPAN = re.compile(r"(?<!\w)(?:every|each|per|in|within|next)\W*$")
_VAGUE_SPANS = {"for hours": (2, 24), "hours": (2, 24), "for days": (48, 168),
                "days": (48, 168), "for weeks": (336, 1344), "all day": (6, 16),
                "all night": (6, 12), "overnight": (6, 12), "all morning": (3, 6),
                "all week": (72, 168), "all weekend": (24, 72)}
_VAGUE_SPAN = _phrase(r"(?P<v>for (?:hours|days|weeks)|(?:hours|days) (?:now|on end)|all (?:day|"
                      r"night|morning|week|weekend)|overnight)(?!\w)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SINCE_ES = {"ayer": "yesterday", "anoche": "last night", "esta manana": "this morning",
             "la manana": "this morning", "en la manana": "this morning", "hoy": "today",
             "esta tarde": "this afternoon", "la semana pasada": "last week",
             "el fin de semana": "the weekend"}
_SINCE_ES_RE = _phrase(r"desde (?P<when>ayer|anoche|esta manana|en la manana|la manana|hoy|"
                       r"esta tarde|la semana pasada|el fin de semana)(?!\w)")
_SINCE = _phrase(r"(?:since|started|starting|began|from) (?:about |around )?(?:on )?(?P<when>"
                 r"last night|yesterday|this morning|this afternoon|this evening|tonight|today|"
                 r"earlier|last week|the weekend|noon|midday|midnight|"
                 rf"{'|'.join(_WEEKDAYS)}|(?P<h>\d{{1,2}})(?::(?P<min>\d\d))? ?(?P<ap>am|pm|"
                 r"a\.m\.|p\.m\.|o'?clock))(?!\w)")
# Without the moment of the call, "since X" is a range of hours wide enough for any moment.
_SINCE_HOURS = {"last night": (1, 36), "yesterday": (1, 48), "this morning": (0.5, 19),
                "this afternoon": (0.5, 12), "this evening": (0.5, 7), "tonight": (0.5, 7),
                "today": (0.5, 24), "earlier": (0.5, 24), "last week": (24, 336),
                "the weekend": (1, 216), "noon": (0.5, 24), "midday": (0.5, 24),
                "midnight": (0.5, 24)}


def durations(text: str, at: dt.datetime | None) -> Found:
    for m in _DURATION.finditer(text):
        unit = _unit(m["unit"])
        short = len(m["unit"]) == 1 or m["unit"].lower() in ("hr", "hrs", "wk", "wks")
        spaced = len(m["unit"]) == 1 and m[0][-2] in " -"  # "500 y está": Spanish "and"
        if (short and not m["n"][0].isdigit()) or spaced or _NOT_A_SPAN.search(
                text, max(0, m.start() - 10), m.start()):
            continue
        n_low, n_high = _quantity(m["n"])
        low, high = _compared("duration_hours", m["cmp"], n_low * _HOURS[unit],
                              n_high * _HOURS[unit])
        yield m.start(), m.end(), Reading("duration_hours", round(low, 2), round(high, 2),
                                          f"for {_said(m, _amount(m['n'], m['unit']))}")
    for m in _VAGUE_SPAN.finditer(text):
        v = m["v"].lower()
        low, high = _VAGUE_SPANS.get(v) or _VAGUE_SPANS[v.split()[0]]
        yield m.start(), m.end(), Reading("duration_hours", low, high, m["v"])
    for m in _SINCE.finditer(text):
        low, high = _since(m, at)
        yield m.start(), m.end(), Reading("duration_hours", low, high, m[0])
    for m in _SINCE_ES_RE.finditer(text):  # read as the English words it says
        since = _SINCE.match(f"since {_SINCE_ES[m['when']]}")
        assert since is not None
        low, high = _since(since, at)
        yield m.start(), m.end(), Reading("duration_hours", low, high, m[0])


def _since(m: re.Match[str], at: dt.datetime | None) -> tuple[float, float]:
    when = m["when"].lower()
    if at is None:
        return _SINCE_HOURS.get(when, (0.5, 24) if m["h"] else (1, 192))
    day = dt.datetime.combine(at.date(), dt.time(), tzinfo=at.tzinfo)
    hour = dt.timedelta(hours=1)
    if m["h"]:
        ap = m["ap"].lower()
        halves = (0, 12) if "clock" in ap else (12,) if ap.startswith("p") else (0,)
        starts = [day + (int(m["h"]) % 12 + half) * hour + int(m["min"] or 0) * hour / 60
                  for half in halves]
        starts = [s - dt.timedelta(days=1) if s > at else s for s in starts]
        return _between(at, min(starts), max(starts))
    if when in _WEEKDAYS:
        back = (at.weekday() - _WEEKDAYS.index(when)) % 7 or 7
        begin = day - dt.timedelta(days=back)
        return _between(at, begin, at if back == 7 else begin + 24 * hour)
    window = {"last night": (-6, 6), "yesterday": (-24, 0), "this morning": (5, 12),
              "this afternoon": (12, 18), "this evening": (17, 24), "tonight": (17, 24),
              "today": (0, 24), "earlier": (0, 24), "noon": (12, 12), "midday": (12, 12),
              "midnight": (0, 0), "last week": (-24 * (at.weekday() + 7), -24 * at.weekday()),
              "the weekend": (-24 * (at.weekday() + 2), -24 * at.weekday())}[when]
    return _between(at, day + window[0] * hour, day + window[1] * hour)


def _between(at: dt.datetime, earliest: dt.datetime, latest: dt.datetime) -> tuple[float, float]:
    hours = [max((at - t).total_seconds() / 3600, 0) for t in (min(latest, at), earliest)]
    return round(hours[0], 2), round(hours[1], 2)


def _read(text: str, at: dt.datetime | None) -> list[Reading]:
    found = [*ages(text), *pregnancies(text), *postpartum(text, at)]
    # An age, a pregnancy or a birth is never also a duration ("6 weeks old", "32 weeks").
    taken = [(s, e) for s, e, _ in found]
    found += [d for d in durations(text, at)
              if not any(s <= d[0] < e or d[0] <= s < d[1] for s, e in taken)]
    numbers = [*blood_pressures(text), *glucoses(text), *saturations(text)]
    taken += [(s, e) for s, e, _ in numbers]
    found += numbers + [t for t in temperatures(text)
                        if not any(s <= t[0] < e for s, e in taken)]
    if not found:
        return []
    standing = _standing(text, [(s, e) for s, e, _ in found])
    return [r for (_, _, r), keep in zip(found, standing, strict=True) if keep]
