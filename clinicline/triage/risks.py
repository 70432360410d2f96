"""The risk groups a protocol can name (``{risk: anticoagulant}``): a closed list, each with
the words and the drug names, brand and generic, that put a caller in it.

Found by the red-flag detector itself, so a group is negated exactly as a red flag is:
"not on blood thinners", "denies HIV", "never had surgery" put no one in a group. A
mention that only might be current ("stopped warfarin last week", "allergic to heparin")
still counts: a risk group can only raise a priority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinicline.triage.detector import Detector, compile_flag

_MEDS = r"(?:meds?|medications?|medicines?|drugs?|pills?|tablets?)"

# group id: (what a nurse reads, patterns as in a protocol: regexes on whole words, any case)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "anticoagulant": ("anticoagulant", (
        r"warfarin|coumadin|jantoven|apixaban|eliquis|rivaroxaban|xarelto|dabigatran|pradaxa",
        r"edoxaban|savaysa|lixiana|enoxaparin|lovenox|clexane|dalteparin|fragmin|heparin",
        r"fondaparinux|arixtra|blood thinners?|anti ?coagula(?:nts?|tion|ted)",
    )),
    "antiplatelet": ("antiplatelet", (
        r"clopidogrel|plavix|prasugrel|effient|ticagrelor|brilinta|anti ?platelets?",
        r"(?:baby|daily|low dose) aspirin|aspirin (?:daily|every day|81)|81 ?mg aspirin",
    )),
    "insulin": ("insulin", (
        r"insulins?|lantus|levemir|tresiba|humalog|novolog|novorapid|basaglar|toujeo|fiasp",
        r"apidra|humulin|novolin|admelog|lyumjev|semglee|glargine|lispro|aspart|detemir",
        r"degludec|insulin pump|omnipod",
    )),
    "anti-seizure": ("anti-seizure medicine", (
        r"levetiracetam|keppra|lamotrigine|lamictal|valpro(?:ate|ic acid)|depakote|divalproex",
        r"phenytoin|dilantin|carbamazepine|tegretol|oxcarbazepine|trileptal|lacosamide|vimpat",
        r"topiramate|topamax|zonisamide|clobazam|brivaracetam|phenobarbital",
        rf"anti ?(?:epileptics?|convulsants?)|(?:anti ?)?(?:seizure|epilepsy) {_MEDS}",
    )),
    "immunosuppressed": ("weakened immunity", (
        r"tacrolimus|prograf|envarsus|mycophenolate|cellcept|myfortic|cyclosporine",
        r"ciclosporin|sirolimus|rapamune|everolimus|azathioprine|imuran",
        r"chemo(?:therapy)?|(?<!hair )transplant(?:ed|s)?|hiv|(?-i:AIDS)|neutropeni\w*",
        r"immuno ?(?:compromised|suppress\w*|deficien\w*)|weak(?:ened)? immune system",
        r"low white (?:blood )?(?:cell )?count|asplen\w*|splenectomy|no spleen",
        r"(?:spleen|his spleen|her spleen|my spleen) (?:was )?removed",
    )),
    "steroids": ("long-term steroids", (
        r"prednisone|prednisolone|methylprednisolone|medrol|dexamethasone|decadron",
        r"hydrocortisone(?! (?:cream|ointment|lotion))|cortef",
        r"(?:long term|daily|chronic) steroids?|steroids? (?:daily|every day|long term)",
    )),
    "pregnant": ("pregnant", (
        r"pregnant|pregnancy(?! tests?)|expecting (?:a baby|twins)|weeks along",
        r"(?:first|second|third|1st|2nd|3rd) trimester",
    )),
    "postpartum": ("postpartum", (
        r"post ?partum|post ?natal|gave birth|giving birth|(?:just |recently )?delivered",
        r"(?:had|having) (?:a|the|my|her|our) (?:baby|twins)|new (?:mom|mum|mother)",
        r"after (?:the )?(?:birth|delivery)",
    )),
    "recent-surgery": ("recent surgery or procedure", (
        r"surger(?:y|ies)|operation|operated on|post ?op\w*|procedure|biopsy|stents?",
        r"(?:c|cesarean|caesarean) section|cesarean|caesarean|ablation",
        r"(?:knee|hip|shoulder|joint) replacement",
        r"replaced (?:my |his |her |a )?(?:knee|hip|shoulder)",
        r"colonoscopy|endoscopy|\w+ectomy|\w+oscopy|\w+plasty",
        r"(?:had|has|got) (?:my |his |her |the |an? )?\w+ (?:out|removed|replaced|repaired|fixed)",
    )),
    "dialysis": ("dialysis", (r"(?:hemo|haemo|peritoneal )?dialysis",)),
    "sickle-cell": ("sickle cell disease", (r"sickle ?cell(?! trait)|sickler",)),
}

# "had my knee replaced 10 years ago" is history, not a recent procedure.
_LONG_AGO = re.compile(r"\W+(?:\w+\W+){0,3}?(?:(?:\d+|many|several|a few|two|three|four|five|"
                       r"six|seven|eight|nine|ten) years?|a year|(?:[3-9]|1\d|three|four|five|"
                       r"six|seven|eight|nine|ten|eleven|twelve) months) ago", re.I)

DETECTOR = Detector(tuple(compile_flag(g, patterns) for g, (_, patterns) in GROUPS.items()))
# Every pattern at once, in lower case and without IGNORECASE (which costs re 3-4 times): a
# text it does not match mentions no group, and most texts mention none.
_CASED = re.compile(r"\(\?-i:([^()]*)\)")  # (?-i:AIDS): in the superset, (?:aids)


def _uncased(match: re.Match[str]) -> str:
    return f"(?:{match[1].lower()})"


_ANY = re.compile("(?<!\\w)(?:{})(?!\\w)".format("|".join(
    _CASED.sub(_uncased, p) for _, patterns in GROUPS.values() for p in patterns)))


@dataclass(frozen=True)
class Risk:
    group: str
    words: str  # what the caller said: "Eliquis", "on chemo"

    def describe(self) -> str:
        label = GROUPS[self.group][0]
        return self.words if label in self.words.lower() else f"{self.words} ({label})"


def risks(text: str) -> list[Risk]:
    """The risk groups ``text`` (normalized) puts its patient in, with the words that did."""
    lower = text.lower()
    if len(lower) == len(text) and _ANY.search(lower) is None:
        return []
    found = []
    for hit in DETECTOR.hits(text):
        if hit.negated or (hit.flag == "recent-surgery" and _LONG_AGO.match(text, hit.end)):
            continue
        found.append(Risk(hit.flag, hit.phrase))
    return found
