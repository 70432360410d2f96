"""The live words for each kind of message, drafts, and approval (audited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.outbox.service import guard_options
from clinicline.outreach import defaults
from clinicline.outreach.kinds import CHANNELS, PURPOSES, Channel, Language, Purpose
from clinicline.outreach.models import Template, TemplateVersion
from clinicline.outreach.templates import Report, check, examples, render
from clinicline.practices.models import Practice, Provider

Kind = tuple[str, str, str]  # (purpose, channel, language)
KINDS: tuple[Kind, ...] = tuple(defaults.SHIPPED)


class Refused(Exception):
    """Approval refused: ``report`` says why."""

    def __init__(self, report: Report) -> None:
        super().__init__("; ".join(report.problems))
        self.report = report


@dataclass(frozen=True)
class Live:
    """The words in force for one kind: an approved version, or the shipped default."""

    body: str
    exempt: bool
    version: TemplateVersion | None  # None: the shipped default

    @property
    def number(self) -> int:
        return self.version.number if self.version else 0

    @property
    def approved_by(self) -> Any:
        return self.version.approved_by if self.version else None

    @property
    def approved_at(self) -> dt.datetime | None:
        return self.version.approved_at if self.version else None


def _versions(practice: Practice, kind: Kind) -> list[TemplateVersion]:
    purpose, channel, language = kind
    return list(TemplateVersion.objects.filter(
        template__practice=practice, template__purpose=purpose, template__channel=channel,
        template__language=language).select_related("approved_by", "created_by"))


def live(practice: Practice, kind: Kind) -> Live:
    """What is sent for ``kind`` now. Only ever an approved version (or the default)."""
    approved = [v for v in _versions(practice, kind) if v.approved]
    if approved:
        return Live(approved[0].body, approved[0].exempt, approved[0])
    shipped = defaults.shipped(*kind, named=practice.name_in_messages)
    # A shipped text claims the exemption only where it qualifies: a practice with a very
    # long name pushes it past 160 characters, and it then goes as an ordinary text.
    return Live(shipped.body, shipped.exempt and _qualifies(practice, kind, shipped.body), None)


_QUALIFIES: dict[tuple[Any, ...], bool] = {}


def _qualifies(practice: Practice, kind: Kind, body: str) -> bool:
    """Whether ``body`` passes the exemption's checks for ``practice``: judged again only
    when something the checks read has changed (the words, the practice's name, number,
    zone and naming, the names its messages may carry), not for every batch of reminders
    (a dozen renderings through the PHI guard)."""
    roster = tuple(Provider.objects.for_practice(practice).order_by("display_name")
                   .values_list("display_name", flat=True))
    key = (practice.pk, kind, body, practice.name, practice.name_in_messages,
           practice.callback_number, practice.time_zone, roster,
           *(tuple(v) if isinstance(v, list) else v for v in guard_options(practice).values()))
    if key not in _QUALIFIES:
        if len(_QUALIFIES) > 1024:
            _QUALIFIES.clear()
        _QUALIFIES[key] = report_for(practice, kind, body, True).ok
    return _QUALIFIES[key]


def pending(practice: Practice, kind: Kind) -> TemplateVersion | None:
    """The newest draft, if it is newer than the live version (an older one was passed by)."""
    versions = _versions(practice, kind)
    newest = versions[0] if versions else None
    return newest if newest is not None and not newest.approved else None


def history(practice: Practice, kind: Kind) -> list[TemplateVersion]:
    return _versions(practice, kind)


def report_for(practice: Practice, kind: Kind, body: str, exempt: bool) -> Report:
    purpose, channel, language = kind
    return check(body, practice=practice, purpose=purpose, channel=channel,
                 language=language, exempt=exempt)


@transaction.atomic
def save_draft(practice: Practice, kind: Kind, body: str, *, exempt: bool = False,
               by: Any = None, request: HttpRequest | None = None) -> TemplateVersion:
    """New words for ``kind``, as the next version: a draft until an admin approves it; the
    live words stay live meanwhile. The checks' findings are kept with it."""
    purpose, channel, language = kind
    template, _ = Template.objects.get_or_create(practice=practice, purpose=purpose,
                                                 channel=channel, language=language)
    # Lock the template, so two editors saving at once take numbers one after the other.
    Template.objects.select_for_update().filter(pk=template.pk).first()
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = TemplateVersion.objects.create(
        template=template, number=number, body=body, exempt=exempt, created_by=by,
        checks=report_for(practice, kind, body, exempt).as_json())
    record(Action.TEMPLATE_DRAFT, request=request, actor=by, practice=practice, obj=version,
           fields=["body"])
    return version


def approve(version: TemplateVersion, *, by: Any, request: HttpRequest | None = None) -> Report:
    """Make ``version`` live, if the checks pass now (the roster or the practice's name may
    have changed since it was drafted); else ``Refused``. Audited either way (the refusal's
    event is committed before it is raised)."""
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=version.template_id)
        practice = template.practice
        kind = (template.purpose, template.channel, template.language)
        report = report_for(practice, kind, version.body, version.exempt)
        newest = pending(practice, kind)
        if newest is None or newest.pk != version.pk:
            report.problems.append("Only the newest draft can be approved.")
        if report.ok:
            version.approved_by, version.approved_at = by, timezone.now()
            version.checks = report.as_json()
            version.save(update_fields=["approved_by", "approved_at", "checks"])
        record(Action.TEMPLATE_APPROVE, request=request, actor=by, practice=practice,
               obj=version, outcome=Outcome.SUCCESS if report.ok else Outcome.FAILURE)
    if not report.ok:
        raise Refused(report)
    return report


@dataclass(frozen=True)
class Overview:
    """One kind as the templates page shows it."""

    kind: Kind
    live: Live
    report: Report                     # the live words' checks, with the previews
    draft: TemplateVersion | None
    draft_report: Report | None

    @property
    def purpose(self) -> Purpose:
        return Purpose(self.kind[0])

    @property
    def channel(self) -> Channel:
        return Channel(self.kind[1])

    @property
    def language(self) -> Language:
        return Language(self.kind[2])


def overview(practice: Practice, kind: Kind) -> Overview:
    words = live(practice, kind)
    draft = pending(practice, kind)
    return Overview(kind, words, report_for(practice, kind, words.body, words.exempt), draft,
                    report_for(practice, kind, draft.body, draft.exempt) if draft else None)


def catalogue(practice: Practice) -> list[Overview]:
    """Every kind the product sends, by purpose, channel and language."""
    order = {p: i for i, p in enumerate([*PURPOSES, *CHANNELS, *Language])}
    return [overview(practice, kind)
            for kind in sorted(KINDS, key=lambda k: tuple(order[part] for part in k))]


def printed(practice: Practice, kind: Kind) -> str:
    """The live words as a person reads them off the printed binder: the preview's values,
    numbers and dates written rather than spelled out for a speech engine."""
    purpose, channel, language = kind
    values = examples(practice, language, longest=False, purpose=purpose)
    return render(live(practice, kind).body, practice=practice, channel=channel,
                  language=language, values=values, speech=False)
