"""Person names, offline: the Census name lists, English words, capitals and context.

A capitalised word is a name when it is a given name or surname and no English word
("Walter", "Okafor"); when it is no English word at all ("Iwase": names from everywhere
are not all in a US list); or, for a name that is also a word ("Will", "May", "Grace",
"Hope", "Bill"), only with a cue: a title before it ("Mr.", "Dr."), a word that introduces
a person ("for", "dear", "patient"), or another name beside it. A middle initial makes a
name of its neighbours ("Ella H. Snider"). In lower case, a given name that is no word is a
name, and so are two words side by side that are no words when one is a Census name
("aksel kristensen"), and the members of a list of such names; not in Spanish, whose
common words are often Census surnames. Months and weekdays are never names by
themselves. Neighbouring name words make one finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from clinicline.phiguard import lexicon
from clinicline.phiguard.text import Word, words

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor",
                    "sir", "madam", "nurse"})
CUES = frozenset({"dear", "hi", "hello", "hey", "patient", "for", "named", "name", "called",
                  "son", "daughter", "wife", "husband", "mother", "father", "mom", "dad",
                  "is", "with", "from", "and", "by", "to", "of", "ask", "tell", "see", "says",
                  "said", "asked", "told", "thanks", "thank", "starring", "featuring"})
CALENDAR = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri",
    "sat", "sun"})
# Words our own messages spell with a capital that no dictionary knows.
OURS = frozenset({"clinicline", "sms", "mms", "faq", "url", "pin", "ok", "okay", "ivr", "mfa",
                  "otp", "am", "pm", "utc", "est", "edt", "pst", "pdt", "cst", "cdt", "mst",
                  "mdt", "covid", "email", "e-mail", "online", "login", "app", "html"})


def _capitalised(word: Word) -> bool:
    text = word.text
    return text[0].isupper() and any(c.isalpha() for c in text)


CONTRACTIONS = ("'s", "'m", "'ll", "'d", "'ve", "'re", "n't")
STREETS = frozenset({"st", "ave", "rd", "blvd", "ln", "apt", "ste", "hwy", "pkwy", "ct", "sq"})
SENTENCE_ENDS = frozenset(".!?:;\n\"'(>*-•")


def _bare(word: Word) -> str:
    """The word without a possessive or a contraction: "Walter's" is "walter"."""
    folded = word.folded
    for ending in CONTRACTIONS:
        if folded.endswith(ending):
            return folded[:-len(ending)]
    return folded


def _starts_sentence(text: str, word: Word) -> bool:
    before = text[:word.start].rstrip(" \t")
    return not before or before[-1] in SENTENCE_ENDS


def _is_name(folded: str) -> bool:
    return folded in lexicon.given_names() or folded in lexicon.surnames()


def _is_word(folded: str) -> bool:
    english = lexicon.english()
    if folded in english or folded in OURS:
        return True
    if "-" in folded:  # "on-call", "follow-up": words joined
        return all(_is_word(part) for part in folded.split("-") if part)
    if _is_name(folded):
        return False  # "Becker" is a name, not one who becks
    # Inflections the list may not hold: "reminders", "rescheduled".
    return any(folded.endswith(end) and folded[:-len(end)] in english
               for end in ("s", "es", "ed", "d", "ing", "ly", "er"))


def _alone(word: Word) -> bool:
    """A name whatever surrounds it: a name that is no word, or no word at all."""
    folded = _bare(word)
    if not folded.replace("-", "").replace("'", "").isalpha() or len(folded) < 2:
        return False
    if folded in CALENDAR or folded in TITLES or folded in STREETS or _is_word(folded):
        return False
    if word.text.isupper() and not _is_name(folded):
        return False  # an acronym, "HIPAA"
    return True


def _parts_name(word: Word) -> bool:
    folded = _bare(word)
    return (all(_is_name(p) for p in folded.split("-") if p)
            and folded not in CALENDAR and folded not in TITLES)


def _is_given(word: Word) -> bool:
    return _bare(word) in lexicon.given_names() and _bare(word) not in CALENDAR


INTRODUCTIONS = frozenset({("name", "is"), ("call", "me"), ("calls", "me"), ("named", ""),
                           ("called", "")})
JOINS = frozenset({" ", ", ", " and ", ", and ", " & "})


def _introduced(found: list[Word], i: int) -> bool:
    """After "my name is", "call me", "named": what follows is a name."""
    one = found[i - 1].folded if i else ""
    two = found[i - 2].folded if i > 1 else ""
    return (two, one) in INTRODUCTIONS or (one, "") in INTRODUCTIONS


def _flag(text: str, found: list[Word], i: int) -> bool:
    word = found[i]
    before = found[i - 1].folded if i else ""
    if not _capitalised(word):
        # Names typed in lower case ("they had 6: silvana, adam, kristina"): a given name
        # that is no English word, or any word that is none after "my name is".
        folded = _bare(word)
        if len(folded) < 2 or _is_word(folded) or not folded.replace("-", "").isalpha():
            return False
        return (len(folded) > 2 and _is_given(word)) or _introduced(found, i)
    titled = before in TITLES and text[found[i - 1].end:word.start].strip(" .") == ""
    if titled or _alone(word):
        return True
    if _parts_name(word) and (before in CUES or text[word.end:word.end + 1] == ":"):
        return True  # "for Grace", "Hope: thank you" (a speaker)
    if _introduced(found, i) and not _is_word(_bare(word)):
        return True
    # A given name that is also a word, capitalised where a sentence does not begin: "Brad".
    return _is_given(word) and not word.text.isupper() and not _starts_sentence(text, word)


def person_names(text: str) -> Iterator[tuple[int, int]]:
    # Words of a path or a time zone ("America/New_York") are nobody's name.
    found = [w for w in words(text)
             if text[w.start - 1:w.start] not in ("/", "_") and text[w.end:w.end + 1] not in
             ("/", "_")]
    # Names typed in lower case are read in English only: in Spanish, many common words
    # are Census surnames too ("pierna roja", "dolor fuerte").
    english = not _spanish(found)
    lower = english and not any(c.isupper() for c in text)
    flagged = [_flag(text, found, i) for i in range(len(found))]
    for i in range(1, len(found)):
        if english and _lower_pair(text, found[i - 1], found[i]):
            flagged[i - 1] = flagged[i] = True
        if i + 1 < len(found) and _initialled(text, found, i, english):
            flagged[i - 1] = flagged[i + 1] = True
    # A name word beside a flagged one is part of the same name ("Walter Grace") or of the
    # same list of names ("Kónya, Becker and Vasquez"); twice, so a list is read both ways.
    for _ in range(2):
        for i in range(len(found)):
            if not flagged[i] and _listed(found[i], lower) and any(
                    flagged[j] for j in _neighbours(text, found, i)):
                flagged[i] = True
    yield from _runs(text, found, flagged)


# Words that tell a Spanish sentence from an English one (none of them is English).
SPANISH = frozenset({"el", "los", "las", "del", "al", "y", "que", "mi", "mis", "se", "le",
                     "les", "lo", "es", "una", "por", "para", "con", "muy", "pero", "hoy",
                     "tiene", "tengo", "estoy", "esta", "su", "sus"})


def _spanish(found: list[Word]) -> bool:
    return len({w.folded for w in found} & SPANISH) >= 2


def _lower_pair(text: str, first: Word, last: Word) -> bool:
    """A name typed in lower case, first and last: "aksel kristensen", "nijito asano". One
    part is a Census name that is no English word, the other a Census name or no word."""
    if text[first.end:last.start] != " " or not (first.text.islower() and last.text.islower()):
        return False
    parts = [_bare(first), _bare(last)]
    if any(len(p) < 3 or not p.isalpha() or _is_word(p) or p in CALENDAR for p in parts):
        return False
    return any(_is_name(p) for p in parts)


def _initialled(text: str, found: list[Word], i: int, english: bool) -> bool:
    """First name, initial, last name: "Ella H. Snider", "emidio p lombardo". Capitalised,
    one part that is a Census name makes it a name though the other is a word too ("Ella"
    is Spanish); typed in lower case, both parts must be no word. Without its full stop,
    no initial is "a", "I", or a Spanish "y", "o", "e", "u" ("fiebre y dolor")."""
    first, middle, last = found[i - 1], found[i], found[i + 1]
    stop = text[middle.end:last.start]
    if len(middle.text) != 1 or not middle.text.isalpha() or stop not in (" ", ". "):
        return False
    if text[first.end:middle.start] != " " or (stop == " " and middle.folded in "aiyoeu"):
        return False
    if middle.text.isupper() and _capitalised(first) and _capitalised(last):
        return any(_parts_name(w) and not w.text.isupper() for w in (first, last))
    if english and middle.text.islower() and first.text.islower() and last.text.islower():
        return all(not _is_word(_bare(w)) and w.folded.isalpha() for w in (first, last))
    return False


def _listed(word: Word, lower: bool) -> bool:
    """May this word be one of a list of names? Capitalised and a name, or, in a text typed
    in lower case, a given name or no word at all ("silvana, adam, kristina, chad and
    caleb")."""
    if _capitalised(word):
        return _parts_name(word)
    if not lower:
        return False
    folded = _bare(word)
    return len(folded) > 2 and folded.isalpha() and (_is_given(word) or not _is_word(folded))


def _neighbours(text: str, found: list[Word], i: int) -> Iterator[int]:
    """The words either side of ``found[i]`` in a list: "A B", "A, B", "A and B", "A & B"."""
    for step in (-1, 1):
        j = i + step
        if 0 <= j < len(found) and found[j].folded == "and":
            j += step
        if 0 <= j < len(found):
            a, b = sorted((i, j))
            if text[found[a].end:found[b].start] in JOINS:
                yield j


def _runs(text: str, found: list[Word], flagged: list[bool]) -> Iterator[tuple[int, int]]:
    start = end = -1
    for word, is_name in zip(found, flagged, strict=True):
        if not is_name:
            continue
        gap = text[end:word.start] if end >= 0 else ""
        # One name across a space, or a middle initial: "Vanessa P. Hertzog", "emidio p
        # lombardo".
        initial = gap.strip(" .")
        if end >= 0 and len(gap) <= 4 and (initial == "" or initial.isupper()
                                           or (len(initial) == 1 and initial.isalpha())):
            end = word.end
            continue
        if end >= 0:
            yield start, end
        start, end = word.start, word.end
    if end >= 0:
        yield start, end
