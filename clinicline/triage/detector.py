"""The free-text red-flag detector: which red flags a caller's words mention, and which of
those mentions are negated ("no chest pain").

Every free-text field passes through here (the concern, a billing question, an SMS, a
voicemail transcript). Findings can only fire more rules, so the detector can raise a
message's priority and never lower it. Its one-sided rule: never miss a real emergency.
A negation counts only when it clearly covers the mention; whenever the reading is
uncertain, the mention stands.

How a mention is judged negated (NegEx-style, with a bounded scope):

* A cue ("no", "not", "denies", "without", "-n't", ...; in Spanish "no", "sin", "niega",
  "nunca", "ni", ...) must come before the mention in
  the same sentence, at most ``MAX_GAP_WORDS`` words away, with no clause break between:
  "but", "and", "since", a pronoun ("no fever he can't breathe"), a time word ("no fever
  today chest pain") or a comma all end the cue's reach (and so do "pero", "y", "desde",
  "que", "con", "hoy", "¿" ...). A Spanish clitic is no break: "no le duele el pecho".
* A comma list stays negated only when it reads as one: "no fever, chills or chest pain"
  (ends with "or") or "denies fever, chills, chest pain" (a clinical list cue), and each
  item is a bare finding. "no fever, chest pain since noon" is two statements: flagged.
* Uncertainty is not negation: "not sure", "can't tell", "no idea", "whether or not",
  "no sé si", "no estoy segura"; nor is persistence: "not going away", "no se le quita".
* "not ... until", "never ... before", "never ... like this" report a new symptom:
  flagged; so do "nunca ... así", "no ... hasta". So is a cue that is part of a red-flag
  phrase itself ("can't breathe", "no puede respirar", "sin respirar", "no responde").
* A form-style answer after the mention negates it: "chest pain: no", "chest pain? none",
  "chest pain free since Monday" (but not "chest pain resolved but came back").
* For a red flag that is an event (``current_only``: a stroke, a seizure, chest pain, an
  overdose; not a state such as a transplant or a shunt, which matters however long ago
  it began), a mention dated to the distant past in its own clause, with only grammar
  between them, is history, not a finding: "had a stroke in 2018", "my heart attack was
  two years ago", "tried to overdose back in 2019", "el año pasado"; but not "having a
  heart attack an ectopic last year", where the year is the ectopic's. Only a year or
  more back counts ("last week" and "yesterday" stand), never a span that runs to now
  ("chest pain since last year", "for two years"), and never in a sentence that also
  says now ("in 2019 and another one tonight"; "better now" is no news).

Text is read without accents ("corazón" as "corazon", "papá" as "papa"): callers and
transcripts drop them, so patterns are folded the same way (``fold``).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from clinicline.triage.screen import pattern_starts, word_starts

MAX_GAP_WORDS = 8   # NegEx uses 5 tokens; clinical shorthand ("denies any recent ...") needs more
MAX_ITEM_WORDS = 6  # "or shortness of breath" is a list item; a sentence is not

_CHARS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'",
                        "`": "'", "\r": "\n"})
_JOINER = re.compile(r"(?<=\w)[-\u2010\u2011\u2012\u2013](?=\w)")  # one-sided, post-op
_SPACE = re.compile(r"[^\S\n]+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[;\n]")  # "38.5" and "Dr.Smith" stay whole
_MARKS = re.compile(r"[\u0300-\u036f]")  # combining accents, once "á" is split into "a" + "´"

_LIST_CUES = (r"denies|denied|deny|denying|negative for|neg for|free of|ruled out|"
              r"no (?:history|hx|signs?|evidence|complaints?|reports?|symptoms?) of|"
              r"history of|hx of|h/o|absence of|"
              # Spanish, written as the text is read (without accents): "niega", "negó"
              r"niegan?|nego|negando|negad[oa]|negativ[oa] para|descartad[oa]|descarta|"
              r"sin (?:antecedentes?|historia|historial|signos|datos|evidencia) de|"
              r"no (?:refiere|reporta|presenta)|antecedentes? de|historia de|historial de")
_SIMPLE_CUES = (r"no|not|never|none|nor|neither|without|w/o|no longer|cannot|"
                r"(?:is|are|was|were|do|does|did|has|have|had|could|would|should|wo|ca|ai|"
                r"need|must)n'?t|"
                r"sin|nunca|jamas|tampoco|ni|nada|ningun|ninguna|ninguno")
_CUE = re.compile(rf"(?<!\w)(?:(?P<list>{_LIST_CUES})|{_SIMPLE_CUES})(?!\w)", re.I)
_PSEUDO = re.compile(
    r"(?<!\w)(?:not sure|not certain|unsure|not clear|(?:do|does|did)(?:n'?t| not) know|"
    r"no idea|(?:can'?t|cannot|can not|couldn'?t) (?:tell|say|be sure|rule out)|not only|"
    r"not just|no doubt|whether or not|if not|or not|not ruled out|no better|"
    r"not (?:any |getting )?better|not improving|no improvement|no relief|not helping|"
    r"(?:does|did)n'?t help|not going away|(?:wo|does|did)n'?t go away|not stopping|"
    r"(?:wo|does|did|ca)n'?t stop|no change|not normal|"
    r"no (?:estoy|esta|estamos|estan) segur[oa]s?|no (?:se|sabe|sabemos|saben) (?:si|que|bien)|"
    r"no sabemos|no se sabe|no (?:puedo|podemos|sabria) decir|no (?:esta|queda) claro|"
    r"no (?:se )?(?:le )?(?:quita|pasa|va|para|detiene|calma)|no deja de|no cede|"
    r"no mejora|no ha mejorado|no hay mejoria|sin mejoria|no (?:le )?(?:ayuda|sirve|funciona)|"
    r"no es normal|no solo|no solamente|no hay duda|sin duda|si o no|o no|si no|"
    r"nada mas|no mas|nomas|sin embargo)(?!\w)", re.I)
_BREAK_WORDS = (r"but|however|though|although|yet|except|besides|other than|apart from|"
                r"aside from|plus|also|still|now|then|until|till|while|whereas|because|"
                r"cause|so|when|which|who|whose|since|with|he|she|they|i|we|you|it|he's|she's|"
                r"they're|i'm|we're|it's|his|him|her|my|me|their|them|our|us|patient|pt|"
                r"mom|mum|mother|dad|father|son|daughter|husband|wife|baby|child|kid|"
                r"today|tonight|yesterday|suddenly|started|began|developed|"
                r"pero|sino|aunque|sin embargo|excepto|salvo|ademas|tambien|todavia|aun|"
                r"ahora|luego|despues|entonces|hasta|mientras|porque|pues|cuando|que|desde|"
                r"con|ella|ellos|ellas|yo|nosotros|usted|ustedes|paciente|mama|papa|madre|"
                r"padre|hijo|hija|esposo|esposa|bebe|nino|nina|abuelo|abuela|hoy|anoche|"
                r"ayer|esta (?:noche|manana|tarde)|de repente|empezo|comenzo")
_BREAK_PUNCT = r"|\s-\s|[:()\[\]\"¿¡]"
# A simple cue ("no") stops at "and"; a list cue ("denies") reads "A and B" as a list.
_BREAK = {False: re.compile(rf"(?<!\w)(?:{_BREAK_WORDS}|and|y)(?!\w){_BREAK_PUNCT}", re.I),
          True: re.compile(rf"(?<!\w)(?:{_BREAK_WORDS})(?!\w){_BREAK_PUNCT}", re.I)}
_SEPARATOR = {False: re.compile(r","), True: re.compile(r",|(?<!\w)(?:and|y)(?!\w)", re.I)}
_OR = re.compile(r"(?<!\w)(?:n?or|o|ni)(?!\w)", re.I)
_REVERSAL = re.compile(r"(?<!\w)(?:until|till|til|before|like (?:this|that)|"
                       r"this (?:bad|severe|much|badly)|hasta|antes|asi(?! que)|"
                       r"como (?:este|esta|esto|ese|esa|eso)|tan (?:fuerte|mal|grave|feo))(?!\w)",
                       re.I)
# A form-style answer right after the mention, standing alone: "chest pain: no." (not
# "chest pain: no doubt"), "chest pain free since Monday".
_POST_CUE = re.compile(r"\s*(?:(?:[:=?]|\s-)\s*(?:no|none|nil|denied|denies|negative|absent|"
                       r"ninguno|ninguna|nada|negativo|niega)|"
                       r"(?:free|resolved))(?=\s*(?:[.,;!?\n]|$|since\b|for\b))", re.I)
_RETURNED = re.compile(r"(?<!\w)(?:but|came back|comes back|coming back|returned|again|worse|"
                       r"recurr\w*|pero|volvio|regreso|otra vez|de nuevo|peor)(?!\w)", re.I)
_CLAUSE_WORDS = frozenset(
    "since started starting starts began begun now today tonight yesterday morning "
    "afternoon evening night noon ago hour hours minutes days is was are were has have had "
    "been be feels felt getting got gets keeps kept at from for all again he she they i we "
    "you it his her him them my their our me us seems seemed looks looked went came can "
    "could will would reports reporting complains complaining c/o presents presenting "
    "endorses endorsing states says said "
    # Spanish, as the text is read (without accents)
    "desde empezo empieza empezaron comenzo comienza ahora hoy anoche ayer manana tarde "
    "noche mediodia hace hora horas minutos dias es esta estaba era son estan fue ha han "
    "habia tiene tenia tuvo siente sintio se le me lo dice dijo parece puede pudo va "
    "vez refiere reporta presenta comenta menciona".split())
_LEADING_CONJUNCTION = frozenset({"or", "nor", "and", "y", "o", "ni"})
# The distant past, not as the start of a span that runs to now ("since", "for", "over").
_YEARS = r"(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|many|several|a few)"
_PAST = re.compile(
    rf"(?<!since )(?<!for )(?<!from )(?<!over )(?<!desde )(?<!por )(?<!durante )(?<!\w)"
    rf"(?:(?:back )?in (?:19|20)\d\d|back in \w+|{_YEARS} (?:years?|yrs?) ago|years ago|"
    r"last year|the year before|last (?:winter|summer|spring|fall|autumn)|"
    r"as a (?:child|kid|teen|teenager|baby)|when (?:i|he|she) was (?:little|young|a kid|a child)|"
    r"en (?:19|20)\d\d|hace (?:\d+|un|dos|tres|cuatro|cinco|varios|muchos) anos?|"
    r"el ano pasado|de (?:nino|nina|chico|chica))(?!\w)", re.I)
_NOW = re.compile(r"(?<!\w)(?<!better )(?<!fine )(?<!ok )(?<!okay )(?<!well )(?<!good )"
                  r"(?<!stable )(?<!recovered )(?:now|again|today|tonight|"
                  r"this (?:morning|afternoon|evening|week)|"
                  r"currently|still|came back|comes back|back again|recurr\w*|worse|new|"
                  r"another|started|starting|just|ahora|otra vez|de nuevo|hoy|esta noche|"
                  r"todavia|sigue|peor)(?!\w)", re.I)
# What may stand between a mention and the date that makes it history.
_DATING_WORDS = frozenset(
    "was were is it that this which happened had has have been i he she they we you my "
    "his her their our a an the some about around roughly maybe like almost nearly over "
    "or at least more than back in on one two three four five six seven eight nine ten "
    # Spanish, as the text is read (without accents)
    "fue fueron era tuvo tuve le me lo la el un una unos unas como mas de o en alrededor "
    "casi".split())
_CLAUSE_BREAK = re.compile(r"[,;:()]|(?<!\w)(?:but|and|pero|y)(?!\w)", re.I)


def normalize(text: str) -> str:
    """One spelling for the detector: straight apostrophes, hyphenated words as two words,
    single spaces, no accents. Case is kept: a few patterns (SOB, CP) are upper-case
    abbreviations."""
    text = fold(unicodedata.normalize("NFKC", text).translate(_CHARS))
    return _SPACE.sub(" ", _JOINER.sub(" ", text))


def fold(text: str) -> str:
    """``text`` without accents ("respiración" → "respiracion", "niño" → "nino"), each
    letter still one character; for patterns as for texts."""
    if text.isascii():  # most texts: nothing to fold, and no time spent on it
        return text
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))


@dataclass(frozen=True)
class FlagPattern:
    id: str
    regex: re.Pattern[str]
    # Where a match can begin: one of these (lower case) begins it; None: anywhere.
    starts: frozenset[str] | None = None
    # An event, not a state: a mention dated years back is history ("a stroke in 2018").
    current_only: bool = False


def compile_flag(flag_id: str, patterns: Iterable[str],
                 current_only: bool = False) -> FlagPattern:
    """One regex per red flag, matching whole words only, in any case."""
    patterns = tuple(patterns)
    body = "|".join(f"(?:{p})" for p in patterns)
    starts = frozenset().union(*map(pattern_starts, patterns))
    return FlagPattern(flag_id, re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE),
                       None if "" in starts else starts, current_only)


@dataclass(frozen=True)
class Hit:
    flag: str
    start: int
    end: int
    phrase: str
    negated: bool


@dataclass(frozen=True)
class Detector:
    flags: tuple[FlagPattern, ...] = ()

    def hits(self, text: str) -> list[Hit]:
        """Every mention of every red flag in ``text``, each judged negated or not."""
        text = normalize(text)
        found = [(f, start, end) for f in self.candidates(text)
                 for start, end in _matches(f, text)]
        if not found:
            return []
        reading = _Reading(text, [(s, e) for _, s, e in found])
        return [Hit(f.id, s, e, text[s:e], reading.negated(s, e, f.current_only))
                for f, s, e in found]

    def candidates(self, text: str) -> tuple[FlagPattern, ...]:
        """The red flags that could match ``text`` (normalized): those with a pattern that
        can begin as one of its words does. Most texts mention no red flag, and a scan of
        a flag's regex tries every one of its patterns at every word; this test is what
        lets a second language's lexicon cost little."""
        by_start = self._flags_by_start
        possible = {i for start in word_starts(text) for i in by_start.get(start, ())}
        return tuple(f for i, f in enumerate(self.flags) if f.starts is None or i in possible)

    @functools.cached_property
    def _flags_by_start(self) -> dict[str, tuple[int, ...]]:
        """Which red flags (by position) have a pattern that can begin with each start."""
        found: dict[str, list[int]] = {}
        for i, flag in enumerate(self.flags):
            for start in flag.starts or ():
                found.setdefault(start, []).append(i)
        return {start: tuple(flags) for start, flags in found.items()}

    def findings(self, texts: Iterable[str]) -> frozenset[str]:
        """The red flags mentioned, and not negated, in any of ``texts``."""
        return frozenset(h.flag for text in texts if text for h in self.hits(text)
                         if not h.negated)


def negated_mentions(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    """Whether each mention (start, end) of normalized ``text`` is negated, judged exactly
    as a red flag is: for the readers of numbers and risk groups (``triage.readers``)."""
    reading = _Reading(text, spans)
    # A reading is a measurement then: "sugar was 40 in 2019" says nothing of now.
    return [reading.negated(start, end, current_only=True) for start, end in spans]


def _matches(flag: FlagPattern, text: str) -> list[tuple[int, int]]:
    """Every word where a pattern of ``flag`` starts, overlaps included: finditer would skip
    "blood is spurting" inside "without a cough but blood is spurting" once the negated
    "cough but blood" had matched."""
    found = []
    match = flag.regex.search(text)
    while match is not None:
        found.append(match.span())
        match = flag.regex.search(text, match.start() + 1)
    return found


@dataclass(frozen=True)
class _Cue:
    start: int
    end: int
    is_list: bool


class _Reading:
    """One text's sentences and negation cues, computed once for all its mentions."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self.text = text
        bounds = list(_SENTENCE_END.finditer(text))
        self.starts = [m.end() for m in bounds]    # where the next sentence may begin
        self.ends = [m.start() for m in bounds]    # where a sentence stops
        pseudo = [m.span() for m in _PSEUDO.finditer(text)]
        # A cue inside a red-flag phrase ("can't breathe", "no pulse") or inside an
        # expression of doubt ("not sure") negates nothing.
        self.cues = [_Cue(m.start(), m.end(), m["list"] is not None)
                     for m in _CUE.finditer(text)
                     if not _inside(m.start(), m.end(), spans)
                     and not _inside(m.start(), m.end(), pseudo)]
        self.cue_ends = [c.end for c in self.cues]

    def negated(self, start: int, end: int, current_only: bool = False) -> bool:
        i = bisect.bisect_right(self.starts, start)
        sentence_start = self.starts[i - 1] if i else 0
        j = bisect.bisect_left(self.ends, end)
        sentence_end = self.ends[j] if j < len(self.ends) else len(self.text)
        if current_only and self._in_the_past(start, end, sentence_start, sentence_end):
            return True
        if (answer := _POST_CUE.match(self.text, end)) is not None:
            # "chest pain resolved but came back tonight" is still chest pain.
            return _RETURNED.search(self.text, answer.end(), sentence_end) is None
        k = bisect.bisect_right(self.cue_ends, start)
        if not k or self.cues[k - 1].start < sentence_start:
            return False
        cue = self.cues[k - 1]
        return not self._reversed(start, end, sentence_end) and self._in_scope(
            cue, start, end, sentence_end)

    def _in_the_past(self, start: int, end: int, sentence_start: int,
                     sentence_end: int) -> bool:
        """The mention's own clause dates it a year or more back, and its sentence says
        nothing of now ("a seizure in 2019 and another one tonight"): see the module's
        docstring."""
        before = [m.end() for m in _CLAUSE_BREAK.finditer(self.text, sentence_start, start)]
        after = _CLAUSE_BREAK.search(self.text, end, sentence_end)
        clause_start = before[-1] if before else sentence_start
        clause_end = after.start() if after else sentence_end
        dated = any(self._dates(start, end, past.start(), past.end()) for past in
                    _PAST.finditer(self.text, clause_start, clause_end))
        return dated and _NOW.search(self.text, sentence_start, sentence_end) is None

    def _dates(self, start: int, end: int, past_start: int, past_end: int) -> bool:
        """Whether a date in the distant past is this mention's: only grammar stands
        between them ("my heart attack was two years ago", "in 2018 he had a stroke"). In
        "I think I'm having a heart attack an ectopic last year" the year is the
        ectopic's, and the heart attack stands."""
        gap = self.text[end:past_start] if past_start >= end else self.text[past_end:start]
        return all(w in _DATING_WORDS or w.isdigit() for w in gap.lower().split())

    def _reversed(self, start: int, end: int, sentence_end: int) -> bool:
        """"wasn't short of breath until tonight", "never felt pain like this in my chest":
        the negation dates the symptom's start; it does not deny it."""
        after = self.text[end:sentence_end].split(",", 1)[0]
        return _REVERSAL.search(f"{self.text[start:end]} {' '.join(after.split()[:4])}") \
            is not None

    def _in_scope(self, cue: _Cue, start: int, end: int, sentence_end: int) -> bool:
        gap = self.text[cue.end:start]
        if _BREAK[cue.is_list].search(gap) or len(gap.split()) > MAX_GAP_WORDS:
            return False
        separators = list(_SEPARATOR[cue.is_list].finditer(gap))
        if not separators:
            return True
        # A list after the cue: each item must be a bare finding, and a plain "no" needs
        # the list to close with "or" ("no fever, chills or chest pain").
        following = _SEPARATOR[cue.is_list].search(self.text, end, sentence_end)
        item = self.text[cue.end + separators[-1].end():following.start() if following
                         else sentence_end]
        middle = [gap[a.end():b.start()] for a, b in zip(separators, separators[1:],
                                                         strict=False)]
        if not all(_list_item(part) for part in [*middle, item]):
            return False
        if cue.is_list:
            return True
        tail = _BREAK[False].search(self.text, end, sentence_end)
        return _OR.search(self.text, cue.end, tail.start() if tail else sentence_end) is not None


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _list_item(part: str) -> bool:
    words = part.lower().split()
    while words and words[0] in _LEADING_CONJUNCTION:
        words = words[1:]
    return len(words) <= MAX_ITEM_WORDS and not _CLAUSE_WORDS.intersection(words)
