"""Encoding and segments, against examples worked by hand from GSM 03.38 and the carriers'
published limits (160/153 GSM-7, 70/67 UCS-2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicline.outreach import sms
from clinicline.outreach.sms import Encoding, measure


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", Encoding.GSM7, 0, 0),
    ("Reply STOP to opt out", Encoding.GSM7, 21, 1),
    ("a" * 160, Encoding.GSM7, 160, 1),
    ("a" * 161, Encoding.GSM7, 161, 2),
    ("a" * 306, Encoding.GSM7, 306, 2),
    ("a" * 307, Encoding.GSM7, 307, 3),
    # The extension table costs two: 80 euro signs are a whole single segment.
    ("€" * 80, Encoding.GSM7, 160, 1),
    ("€" * 81, Encoding.GSM7, 162, 2),
    ("{[~]}|^\\", Encoding.GSM7, 16, 1),
    # é, ñ, ü, à are in the basic table; Spanish á, í, ó, ú are not.
    ("Señora Müller, à demain: café", Encoding.GSM7, 29, 1),
    ("Está", Encoding.UCS2, 4, 1),
    ("It’s time", Encoding.UCS2, 9, 1),           # a curly apostrophe
    ("Call us — today", Encoding.UCS2, 15, 1),      # an em dash
    ("’" + "b" * 69, Encoding.UCS2, 70, 1),
    ("’" + "b" * 70, Encoding.UCS2, 71, 2),
    ("’" + "b" * 133, Encoding.UCS2, 134, 2),
    ("’" + "b" * 134, Encoding.UCS2, 135, 3),
    ("🙂" * 35, Encoding.UCS2, 70, 1),               # surrogate pairs count two
])
def test_known_examples(text: str, encoding: Encoding, units: int, segments: int) -> None:
    shape = measure(text)
    assert (shape.encoding, shape.units, shape.segments) == (encoding, units, segments)


def test_an_escaped_character_never_straddles_two_segments() -> None:
    # 306 septets would fill two parts exactly, but the € (escape + character) cannot
    # start in the first part's last septet: it moves on, and the text needs a third part.
    shape = measure("a" * 152 + "€" + "a" * 152)
    assert shape.units == 306 and shape.segments == 3


def test_the_editor_is_told_which_characters_force_ucs2_and_given_the_plain_ones() -> None:
    words = "Dr. Osei’s office — please call “us” back…"
    shape = measure(words)
    assert shape.forcing == ("’", "—", "“", "”", "…")
    assert sms.plain(words) == "Dr. Osei's office - please call \"us\" back..."
    assert measure(sms.plain(words)).encoding is Encoding.GSM7


def test_plain_leaves_letters_alone() -> None:
    assert sms.plain("Está lista") == "Está lista"


@given(st.text(max_size=400))
def test_segments_hold_the_text(text: str) -> None:
    shape = measure(text)
    single, part = ((sms.GSM_SINGLE, sms.GSM_PART) if shape.encoding is Encoding.GSM7
                    else (sms.UCS2_SINGLE, sms.UCS2_PART))
    if shape.units <= single:
        assert shape.segments == (1 if text else 0)
    else:
        assert (shape.segments - 1) * part < shape.units <= shape.segments * part
