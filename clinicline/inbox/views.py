from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinicline.accounts.access import member_view
from clinicline.inbox.routing import DEFAULT_RULES, rules


@member_view()
def routing_rules(request: HttpRequest) -> HttpResponse:
    """The routing rules in force, read-only: the practice's own, or the defaults."""
    own = rules(request.practice)
    return render(request, "inbox/routing.html", {
        "rules": [(r.call_type, r.priority, r.get_when_display(), r.team.name) for r in own]
        or [(r.call_type, r.priority, r.when, r.team_slug) for r in DEFAULT_RULES],
        "defaults": not own,
    })
