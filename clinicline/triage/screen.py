"""Where a red flag's match can begin, so that the detector tries a red flag's regex only
on a text with a word that begins that way.

A red flag's regex is one alternation of all its patterns, and a scan tries every pattern
at every word of the text, while most texts (a billing question, an address) mention no
red flag at all. ``pattern_starts`` reads a pattern with Python's own regex parser and
says which strings of up to six characters every match of it begins with ("no puede
respirar": "no pue"; "(?:se )?desmay\\w*": "desmay" or "se des"); ``word_starts`` says
what a text's words begin with. A red flag none of whose starts is among them cannot
match, and is not tried. The screen is only ever looser than the patterns (a shorter
start, or "anywhere"), never stricter, so it changes no finding; it is what lets a second
language's lexicon cost the English texts little.
"""

from __future__ import annotations

import importlib
import re
import string
from typing import Any

# Python's own regex parser (private: re._parser since 3.11, and without type stubs: hence
# Any). Without it every pattern may begin anywhere, and every red flag is tried, as before.
try:
    _PARSER: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - a Python that moved it again
    _PARSER = None


_PREFIX = 6        # characters of a word looked at before a red flag's patterns are tried
_MAX_STARTS = 256  # past this a pattern's starts are cut shorter
_AT_WORD = re.compile(rf"(?<!\w)(?=(\w.{{0,{_PREFIX - 1}}}))", re.DOTALL)  # a word
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
_WORD = re.compile(r"\w")


# A pattern's starts are ASCII, lower case. In any case, Python's re also matches these
# with an ASCII letter: "ſick" matches "sick", "İ" and "ı" match "i", the Kelvin sign "k".
# Every other character outside ASCII begins no start, so it may stay as it is.
AS_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k",
                          **{c: c.lower() for c in string.ascii_uppercase}})


def word_starts(text: str) -> frozenset[str]:
    """The first one to six characters (lower case) at the beginning of every word (a
    pattern that can begin otherwise, with a space or a sign, may begin anywhere)."""
    if not text.isascii():  # "٣ weeks old" matches \\d weeks: read as "0 weeks old"
        text = _OTHER_DIGIT.sub("0", text)
    return frozenset(s[:n] for s in _AT_WORD.findall(text.translate(AS_ASCII))
                     for n in range(1, _PREFIX + 1))


def pattern_starts(pattern: str) -> frozenset[str]:
    """Strings of up to six ASCII characters (lower case), one of which begins every
    match of ``pattern`` in any case; "" among them when some match's start is not plainly
    known (a class such as \\w, a character outside ASCII). The pattern still decides:
    this only says where it cannot match."""
    if _PARSER is None:
        return frozenset([""])
    try:
        starts = {start for start, _ in _sequence(_PARSER.parse(pattern, re.IGNORECASE).data,
                                                  _PREFIX)}
        return frozenset(s if _WORD.match(s) else "" for s in starts)
    except (re.error, TypeError, ValueError, AttributeError, IndexError):
        return frozenset([""])


_Starts = set[tuple[str, bool]]  # (letters, whether the element's match ends there)


def _sequence(items: Any, room: int) -> _Starts:
    if room == 0 or not items:
        return {("", True)}
    op, arg = items[0]
    if op in (_PARSER.ASSERT, _PARSER.ASSERT_NOT, _PARSER.AT):  # takes no letter
        return _sequence(items[1:], room)
    if op in (_PARSER.MAX_REPEAT, _PARSER.MIN_REPEAT):
        return _repeat(arg, list(items[1:]), room)
    found: _Starts = set()
    for head, ended in _element(op, arg, room):
        if ended and len(head) < room:
            found |= {(head + tail, done) for tail, done in _sequence(items[1:],
                                                                       room - len(head))}
        else:
            found.add((head, False))
    return _bounded(found)


def _bounded(found: _Starts) -> _Starts:
    """At most _MAX_STARTS starts: shorter ones, if need be ("1 d" for "1 day", "1 days")."""
    length = _PREFIX
    while len(found) > _MAX_STARTS and length > 1:
        length -= 1
        found = {(start[:length], ended and len(start) <= length) for start, ended in found}
    return found


def _element(op: Any, arg: Any, room: int) -> _Starts:
    if op is _PARSER.LITERAL:
        # Outside ASCII, lower() and the regex's own case rules differ ("ſ" matches "S").
        return {(chr(arg).lower(), True)} if arg < 128 else {("", False)}
    if op is _PARSER.IN and all(_members(kind, value) for kind, value in arg):
        codes = [c for kind, value in arg for c in _members(kind, value)]
        if len(codes) <= 64:
            return set().union(*(_element(_PARSER.LITERAL, c, room) for c in codes))
    elif op is _PARSER.SUBPATTERN:  # flags too: "(?-i:CP)" begins with a c in any case
        return _sequence(arg[3].data, room)
    elif op is _PARSER.BRANCH:
        return set().union(*(_sequence(branch.data, room) for branch in arg[1]))
    return {("", False)}


def _repeat(arg: Any, rest: list[Any], room: int) -> _Starts:
    """x{low,high} then ``rest``: ``rest`` alone when x may be left out, and one x followed
    by x{low-1,high-1} and ``rest``."""
    low, high, item = arg
    found = _sequence(rest, room) if low == 0 else set()
    if high == 0:
        return found
    again = [(_PARSER.MAX_REPEAT, (max(low - 1, 0), high - 1 if high < _PARSER.MAXREPEAT
                                   else high, item))]
    for head, ended in _sequence(item.data, room):
        if not head:  # an x that can be empty: where it ends says nothing
            found.add(("", False))
        elif ended and len(head) < room:
            found |= {(head + tail, done) for tail, done in _sequence(again + rest,
                                                                       room - len(head))}
        else:
            found.add((head, False))
    return _bounded(found)


def _members(kind: Any, value: Any) -> range | list[int]:
    """The characters of one member of a class ([a-z], x, \\d), or none when unknown. For
    \\d, 0-9 (word_starts reads any other digit as 0)."""
    if kind is _PARSER.LITERAL:
        return [value]
    if kind is _PARSER.RANGE:
        return range(value[0], value[1] + 1)
    if kind is _PARSER.CATEGORY and value is _PARSER.CATEGORY_DIGIT:
        return range(ord("0"), ord("9") + 1)
    return []
