"""The practice's escalation policy, edited by its admin: the chain of steps (who is
notified, then how long to wait), and how many times the chain runs before the alarm.

A page copies the policy when it opens, so a change here never alters a live page. Every
change is audited (which step, never who is on call)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.models import User
from clinicline.accounts.roles import Perm
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.oncall.models import Policy, PolicyStep
from clinicline.oncall.models.paging import MAX_WAIT_S, MIN_WAIT_S
from clinicline.practices.models import Practice, Team


def default_policy(practice: Practice) -> Policy:
    policy = Policy.objects.for_practice(practice).filter(is_default=True).first()
    if policy is None:
        policy = Policy.objects.create(practice=practice, name="After hours", is_default=True)
    return policy


class StepForm(forms.Form):
    target = forms.ChoiceField(choices=PolicyStep.Target.choices, label="Notify")
    member = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                    label="Member (for a named member)")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False,
                                  label="Team (for a team)")
    wait_s = forms.IntegerField(min_value=MIN_WAIT_S, max_value=MAX_WAIT_S, initial=120,
                                label="Then wait (seconds)",
                                help_text=f"{MIN_WAIT_S} s to 24 h ({MAX_WAIT_S} s)")

    def __init__(self, practice: Practice, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["member"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__practice=practice, is_active=True).order_by("username")
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            practice=practice).order_by("name")

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("target") == PolicyStep.Target.MEMBER and not data.get("member"):
            self.add_error("member", "Choose the member this step notifies.")
        if data.get("target") == PolicyStep.Target.TEAM and not data.get("team"):
            self.add_error("team", "Choose the team this step notifies.")
        return data


class RepeatForm(forms.Form):
    repeat = forms.IntegerField(min_value=1, max_value=10, label="Run the chain this many times")


@member_view(Perm.MANAGE_PRACTICE)
def policy(request: PracticeRequest) -> HttpResponse:
    current = default_policy(request.practice)
    posted = request.POST if request.method == "POST" else None
    action = posted.get("action", "") if posted else ""
    step_form = StepForm(request.practice, posted if action == "add" else None)
    repeat_form = RepeatForm(posted if action == "repeat" else None,
                             initial={"repeat": current.repeat})
    if action == "add" and step_form.is_valid():
        data = step_form.cleaned_data
        with transaction.atomic():
            last = current.steps.aggregate(last=Max("position"))["last"]
            step = PolicyStep.objects.create(
                policy=current, position=0 if last is None else last + 1,
                target=data["target"], wait_s=data["wait_s"],
                member=data["member"] if data["target"] == PolicyStep.Target.MEMBER else None,
                team=data["team"] if data["target"] == PolicyStep.Target.TEAM else None)
            record(Action.SETTINGS_CHANGE, request=request, practice=request.practice,
                   obj=current, fields=["steps"], reason=f"added step {step.position + 1}")
        messages.success(request, "Step added.")
        return redirect("oncall:policy", practice=request.practice.slug)
    if action == "remove":
        removed = current.steps.filter(pk=_int(request.POST.get("step", ""))).delete()[0]
        if removed:
            record(Action.SETTINGS_CHANGE, request=request, practice=request.practice,
                   obj=current, fields=["steps"], reason="removed a step")
            messages.success(request, "Step removed.")
        return redirect("oncall:policy", practice=request.practice.slug)
    if action == "repeat" and repeat_form.is_valid():
        current.repeat = repeat_form.cleaned_data["repeat"]
        current.save(update_fields=["repeat"])
        record(Action.SETTINGS_CHANGE, request=request, practice=request.practice,
               obj=current, fields=["repeat"])
        messages.success(request, "Saved.")
        return redirect("oncall:policy", practice=request.practice.slug)
    invalid = posted is not None and (step_form.errors or repeat_form.errors
                                      or action not in ("add", "remove", "repeat"))
    return render(request, "oncall/policy.html", {
        "policy": current, "steps": current.steps.select_related("member", "team"),
        "step_form": step_form, "repeat_form": repeat_form,
        "error": "Choose add, remove or repeat." if posted is not None and action not in (
            "add", "remove", "repeat") else "",
    }, status=400 if invalid else 200)


def _int(value: str) -> int:
    return int(value) if value.isdigit() else 0
