"""The script binder as a PDF, for the front desk to print ("keep printed copies of your
scripts"): the answering scripts, the voicemail and outreach templates in force, the
return-call scripts, and the triage protocol's red flags in brief. Made from the
practice's live documents each time it is downloaded.

DejaVu Sans (Debian's fonts-dejavu-core) is embedded so that Spanish, curly quotes and
the practice's own words print as written; the PDF core fonts know only Latin-1.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from clinicline.intake import identity
from clinicline.intake.models import ScriptSet
from clinicline.outreach import service as outreach
from clinicline.outreach.kinds import PURPOSES, Channel, Language, Purpose
from clinicline.practices.models import Practice
from clinicline.triage.spec import Condition, Priority, ProtocolSpec

FONTS = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": FONTS / "DejaVuSans.ttf", "B": FONTS / "DejaVuSans-Bold.ttf"}
BODY, SMALL, LINE = 10, 8.5, 5.0
# fontTools logs, at INFO, every glyph it keeps: the practice's words, letter by letter.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class Binder(FPDF):
    def __init__(self, practice: Practice, printed: str) -> None:
        super().__init__(format="Letter")
        self.practice_name, self.printed = practice.name, printed
        for style, path in FONT_FILES.items():
            self.add_font("DejaVu", style, path)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(f"{practice.name}: script binder")
        self.set_creator("clinicline")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 7.5)
        self.cell(0, 5, f"{self.practice_name} · script binder · printed {self.printed} · "
                        f"page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str, size: float = 14) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font("DejaVu", "B", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: str, size: float = BODY, bold: bool = False) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, LINE * size / BODY, text, align="L", new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)

    def said(self, label: str, text: str) -> None:
        """A label, then the words to say, indented."""
        self.para(label, SMALL, bold=True)
        self.set_x(self.l_margin + 5)
        self.set_font("DejaVu", "", BODY)
        self.multi_cell(0, LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)


def _answering(pdf: Binder, shown: ScriptSet, rows: list[dict[str, Any]]) -> None:
    pdf.heading(f"Answering scripts (version {shown.version})")
    pdf.para("Slots show sample values: the provider on call, the callback minutes, the "
             "next opening.", SMALL)
    for row in rows:
        pdf.heading(row["where"][:1].upper() + row["where"][1:], 10.5)
        for language, text in row["texts"]:
            pdf.said(language.name, text)


def _voicemail(pdf: Binder, practice: Practice) -> None:
    pdf.heading("Voicemail: what to leave on a patient's machine")
    pdf.para("Only the provider's office, a vague reason and the callback number: never the "
             "patient's name, never a detail. The number is read slowly, digit by digit.",
             SMALL)
    for purpose in PURPOSES:
        for language in Language:
            kind = (purpose, Channel.VOICEMAIL, language)
            pdf.said(f"{purpose.label.capitalize()} · {language.label}",
                     outreach.printed(practice, kind))


def _outreach(pdf: Binder, practice: Practice) -> None:
    pdf.heading("Texts, calls and emails the practice sends")
    pdf.para("The approved words in force (or the shipped default), with sample values.", SMALL)
    for kind in outreach.KINDS:
        purpose, channel, language = (Purpose(kind[0]), Channel(kind[1]), Language(kind[2]))
        if channel == Channel.VOICEMAIL:
            continue
        live = outreach.live(practice, kind)
        version = f"version {live.number}" if live.version else "shipped default"
        pdf.said(f"{purpose.label.capitalize()} · {channel.label} · {language.label} "
                 f"({version})", outreach.printed(practice, kind))


def _return_calls(pdf: Binder, refusals: Iterable[tuple[str, str]]) -> None:
    pdf.heading("Return calls: verify before anything is said")
    minutes = int(identity.FAILURE_WINDOW.total_seconds() // 60)
    for step in (
        "Say: \u201cTo protect your privacy, I need to verify who you are. Please tell me your "
        "full name, your date of birth, and a phone number we have on file for you.\u201d",
        "Enter what the caller says in Return call. Confirm nothing (not even that they are a "
        "patient) until the console shows them verified. An MRN may stand in for the phone.",
        f"After {identity.MAX_FAILURES} failed checks in {minutes} minutes the console pauses "
        "checks: offer to take a message instead.",
        "If the caller is not verified, or asks for what may not be shared, say:",
    ):
        pdf.para(f"\u2022 {step}")
    for language, text in refusals:
        pdf.said(language, text)


def _flags(condition: Condition) -> Iterator[str]:
    """The red flags that fire the rule on their own: not those that only count together
    with something else ("a baby" and "a fever"), which would mislead on a printed list."""
    if condition.kind == "red_flag":
        yield from condition.values
    if condition.kind == "any":
        for child in condition.children:
            yield from _flags(child)


def _triage(pdf: Binder, protocol: ProtocolSpec) -> None:
    pdf.heading(f"Triage in brief (protocol version {protocol.version})")
    pdf.para("The console decides priority from the practice's protocol; this page is for a "
             "day the site is down. Any one of these in what the caller says (others count "
             "only together with another finding: the console knows them):", SMALL)
    worst: dict[str, Priority] = {}
    for rule in protocol.rules:
        for flag in _flags(rule.when):
            if flag not in worst or rule.priority.rank > worst[flag].rank:
                worst[flag] = rule.priority
    labels = {flag.id: flag.label for flag in protocol.red_flags}
    for priority, what in ((Priority.EMERGENCY, "Emergency: tell the caller to hang up and "
                            "dial 911, then page the provider on call"),
                           (Priority.URGENT, "Urgent: page the provider on call now")):
        pdf.heading(what, 10.5)
        pdf.para(" · ".join(sorted(labels[f] for f, p in worst.items()
                                   if p is priority and f in labels)), SMALL)
    pdf.heading("Everything else", 10.5)
    pdf.said("Say", protocol.default_say)
    counts = {p: sum(rule.priority is p for rule in protocol.rules) for p in Priority}
    pdf.para(f"The protocol has {len(protocol.rules)} rules ({counts[Priority.EMERGENCY]} "
             f"emergency, {counts[Priority.URGENT]} urgent, {counts[Priority.ROUTINE]} "
             "routine); the console shows each one's words to say when it fires.", SMALL)


def build(practice: Practice, *, scripts: ScriptSet, rows: list[dict[str, Any]],
          refusals: Iterable[tuple[str, str]], protocol: ProtocolSpec) -> bytes:
    """The binder's bytes. ``rows`` are the answering scripts as the scripts page shows
    them; ``refusals`` the return-call refusal in each language (name, words)."""
    printed = dt.datetime.now(practice.tz).strftime("%b %d, %Y %H:%M %Z")
    pdf = Binder(practice, printed)
    pdf.add_page()
    pdf.heading(f"{practice.name}: script binder", 18)
    pdf.para(f"Printed {printed} from the practice's live scripts and templates. Keep it at "
             "the desk; print a new one after the scripts change.", SMALL)
    _voicemail(pdf, practice)
    _return_calls(pdf, refusals)
    _answering(pdf, scripts, rows)
    _outreach(pdf, practice)
    _triage(pdf, protocol)
    return bytes(pdf.output())
