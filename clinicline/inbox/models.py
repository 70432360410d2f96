from django.db import models

from clinicline.practices.models import PracticeOwned, Team

ANY = "*"


class RoutingRule(PracticeOwned):
    """Which team gets a message: the first rule, by ``order``, whose call type, priority and
    office state match. A practice with no rules uses ``routing.DEFAULT_RULES``."""

    class When(models.TextChoices):
        OPEN = "open", "office open"
        CLOSED = "closed", "office closed"
        ANY = "any", "any time"

    call_type = models.CharField(max_length=40, default=ANY,
                                 help_text='a call type slug, or "*" for any')
    priority = models.CharField(max_length=20, default=ANY,
                                help_text='a priority, or "*" for any')
    when = models.CharField(max_length=6, choices=When.choices, default=When.ANY)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.call_type}/{self.priority}/{self.when} → {self.team_id}"

    def matches(self, call_type: str, priority: str, open: bool) -> bool:
        return (self.call_type in (ANY, call_type) and self.priority in (ANY, priority)
                and (self.when == self.When.ANY or (self.when == self.When.OPEN) == open))
