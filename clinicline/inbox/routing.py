"""Routing: which team a message goes to, from rules kept as data per practice."""

from __future__ import annotations

from typing import NamedTuple

from clinicline.inbox.models import ANY, RoutingRule
from clinicline.practices.models import DEFAULT_TEAMS, Practice, Team, Work


class Rule(NamedTuple):
    call_type: str
    priority: str
    when: str
    team_slug: str

    def matches(self, call_type: str, priority: str, open: bool) -> bool:
        return (self.call_type in (ANY, call_type) and self.priority in (ANY, priority)
                and (self.when == "any" or (self.when == "open") == open))


# The rules in force for a practice that has written none. Urgent care comes first, so an
# emergency about a bill still reaches a clinician; anything unmatched goes to the manager.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(ANY, "emergency", "any", "clinical"),
    Rule(ANY, "urgent", "any", "clinical"),
    Rule("clinical", ANY, "any", "clinical"),
    Rule("refill", ANY, "any", "refills"),
    Rule("scheduling", ANY, "any", "scheduling"),
    Rule("new-patient", ANY, "any", "scheduling"),
    Rule("billing", ANY, "any", "billing"),
    Rule("complaint", ANY, "any", "practice-manager"),
    Rule("records", ANY, "any", "practice-manager"),
    Rule("other", ANY, "any", "practice-manager"),
    Rule(ANY, ANY, "any", "practice-manager"),
)


def rules(practice: Practice) -> list[RoutingRule]:
    return list(RoutingRule.objects.for_practice(practice).select_related("team")
                .order_by("order", "pk"))


def route(practice: Practice, call_type: str, priority: str, open: bool) -> Team:
    """The team for a message: the practice's first matching rule, else the defaults (whose
    team is made if the practice has none of that name: a message is never left unrouted)."""
    for rule in rules(practice):
        if rule.matches(call_type, priority, open):
            return rule.team
    for default in DEFAULT_RULES:
        if default.matches(call_type, priority, open):
            return default_team(practice, default.team_slug)
    raise AssertionError("the last default rule matches everything")  # pragma: no cover


def default_team(practice: Practice, slug: str) -> Team:
    name, work = DEFAULT_TEAMS.get(slug, (slug, Work.GENERAL))
    team, _ = Team.objects.get_or_create(practice=practice, slug=slug,
                                         defaults={"name": name, "work": work})
    return team


def clinical_team(practice: Practice) -> Team:
    """Where clinical content goes when a rule would leave it with non-clinical staff: the
    practice's first clinical team (made, as the default one, if it has none)."""
    team = (Team.objects.filter(practice=practice, work=Work.CLINICAL).order_by("pk").first())
    return team or default_team(practice, "clinical")
