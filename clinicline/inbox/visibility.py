"""Who sees which team queue, and which messages are clinical (minimum necessary).

Two rules, both pure:

- A role sees the queues its work needs: a team's ``work`` (``QUEUE_ROLES``; a team a
  practice adds is general clinical work, seen by clinical roles and the practice
  manager). Agents, the practice admin and the compliance officer work no queue.
- A clinical message (a clinical or refill call, a priority above routine, or red flags in
  what the caller said) is for clinical roles only, whatever queue it is in; and clinical
  roles see clinical messages in every queue, so routing can never strand one where nobody
  may open it.

The lists filter on clear columns only (no decryption): ``Message.clinical`` is set when
the message is opened or re-triaged (``inbox.service``), which also routes clinical content
away from the non-clinical queues.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import CLINICAL, Role
from clinicline.inbox.models import Message
from clinicline.practices.models import Team, Work

QUEUE_ROLES: dict[str, frozenset[str]] = {
    Work.CLINICAL: frozenset(CLINICAL),
    Work.SCHEDULING: frozenset({Role.SCHEDULER, Role.FRONT_DESK, Role.NURSE, Role.PROVIDER,
                                Role.PRACTICE_MANAGER}),
    Work.BILLING: frozenset({Role.BILLING, Role.PRACTICE_MANAGER}),
    Work.MANAGEMENT: frozenset({Role.PRACTICE_MANAGER}),
    Work.GENERAL: frozenset({*CLINICAL, Role.PRACTICE_MANAGER}),
}
# Work that is not clinical: clinical staff are not notified about it, and clinical
# content never waits in it.
NON_CLINICAL_WORK = frozenset({Work.SCHEDULING, Work.BILLING, Work.MANAGEMENT})

CLINICAL_Q = Q(clinical=True)


def queue_roles(work: str) -> frozenset[str]:
    return QUEUE_ROLES.get(work, QUEUE_ROLES[Work.GENERAL])


def sees_queue(role: str, work: str) -> bool:
    return role in queue_roles(work)


def is_clinical_role(role: str) -> bool:
    return role in CLINICAL


def is_clinical_queue(work: str) -> bool:
    return work not in NON_CLINICAL_WORK


def is_clinical(message: Message) -> bool:
    return message.clinical


def role_may_open(role: str, work: str, clinical: bool) -> bool:
    if clinical:
        return is_clinical_role(role)
    return sees_queue(role, work)


def can_open(membership: Membership, message: Message) -> bool:
    """Whether this member may open this message (a 404 otherwise, as for no message)."""
    if message.practice_id != membership.practice_id:
        return False
    return role_may_open(membership.role, message.team.work, is_clinical(message))


def can_receive(team: Team, message: Message) -> bool:
    """Whether some role could open ``message`` in ``team``'s queue: a reassignment must
    never leave a message where nobody may open it."""
    clinical = is_clinical(message)
    return any(sees_queue(role, team.work) and role_may_open(role, team.work, clinical)
               for role in Role)


def queues_for(membership: Membership) -> list[Team]:
    """The practice's team queues this member works, by name."""
    teams = Team.objects.filter(practice_id=membership.practice_id).order_by("name", "pk")
    return [t for t in teams if sees_queue(membership.role, t.work)]


def in_queue(membership: Membership, team: Team) -> QuerySet[Message]:
    """The messages of ``team``'s queue this member may see listed (clear columns only).

    A clinical role looking into a queue it does not work sees its clinical messages only;
    any other role sees nothing of a queue it does not work."""
    messages = Message.objects.filter(practice_id=membership.practice_id, team=team)
    role = membership.role
    if sees_queue(role, team.work):
        return messages if is_clinical_role(role) else messages.exclude(CLINICAL_Q)
    if is_clinical_role(role):
        return messages.filter(CLINICAL_Q)
    return messages.none()


def visible(membership: Membership) -> QuerySet[Message]:
    """Every message of the practice this member may see listed, in any queue."""
    messages = Message.objects.filter(practice_id=membership.practice_id)
    worked = Q(team_id__in=[t.pk for t in queues_for(membership)])
    if is_clinical_role(membership.role):
        return messages.filter(worked | CLINICAL_Q)
    return messages.filter(worked).exclude(CLINICAL_Q)
