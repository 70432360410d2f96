"""The patient page's "Send a message": a purpose, a channel the patient consented to and a
provider from the roster; the words previewed as the patient would get them, and after
sending, the decision (sent, or withheld and why). Every attempt goes through
``decisions.send``: results ready through ``results.request``, which also makes the
results link (a text to a patient who consented to the portal carries it); the page itself
sends nothing any other way. By call or by voicemail, whatever the purpose, the decision
places a call that says the voice words to a person and leaves the voicemail words on a
machine (with voicemail consent then)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.accounts.roles import CLINICAL, Perm, Role
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.outreach import decisions, results, service, templates
from clinicline.outreach.decision_models import SendDecision, Why
from clinicline.outreach.kinds import (
    CHANNELS,
    PURPOSE_REASON,
    SPOKEN,
    Channel,
    Language,
    Purpose,
)
from clinicline.patients import consent
from clinicline.patients.models import Patient
from clinicline.patients.views import _open_or_refuse, _patient
from clinicline.practices.models import Provider

STAFF_PURPOSES = (Purpose.RESULTS_READY, Purpose.CARE_TEAM, Purpose.BILLING)
# What a member of staff is told of a decision: plain words, no code.
OUTCOME_WORDS = {
    "sent": "Sent. It is queued for delivery now.",
    "deferred": "Held until the patient's quiet hours end; it is checked again and sent then.",
}


def purposes_for(role: str) -> list[str]:
    """Clinical staff and the front desk send any of these; billing only billing."""
    if role in CLINICAL or role == Role.FRONT_DESK:
        return list(STAFF_PURPOSES)
    if role == Role.BILLING:
        return [Purpose.BILLING]
    return []


def consented_channels(patient: Patient, purposes: list[str]) -> list[str]:
    """Channels with words for one of ``purposes`` that the patient consented to for it now
    (read from the ledger; the decision reads it again when sending)."""
    return [channel for channel in CHANNELS if any(
        (purpose, channel, Language.EN) in service.KINDS
        and consent.state(patient, channel, purpose).allowed
        for purpose in purposes)]


class SendForm(forms.Form):
    purpose = forms.ChoiceField()
    channel = forms.ChoiceField()
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), required=False,
                                      empty_label="(none: the practice's name only)")
    # Made when the form is shown: sending the same form twice sends once.
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, purposes: list[str], channels: list[str],
                 providers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        purpose, channel = self.fields["purpose"], self.fields["channel"]
        assert isinstance(purpose, forms.ChoiceField) and isinstance(channel, forms.ChoiceField)
        purpose.choices = [(p, Purpose(p).label.capitalize()) for p in purposes]
        channel.choices = [(c, Channel(c).label.capitalize()) for c in channels]
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ModelChoiceField)
        provider.queryset = providers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = (data.get("purpose"), data.get("channel"), Language.EN)
        if data.get("purpose") and data.get("channel") and kind not in service.KINDS:
            raise forms.ValidationError("The practice has no words for that purpose on that "
                                        "channel: choose another channel.")
        if data.get("purpose") == Purpose.RESULTS_READY and data.get("channel") and (
                data["channel"] not in results.CHANNELS):
            raise forms.ValidationError("Results ready go by text, call or voicemail: choose "
                                        "another channel.")
        return data


# What the page says when the words cannot be rendered, by the slot that had no value.
NO_PROVIDER = "These words name the provider: choose one."
# Words with a {secure_link} slot: this page makes no link for one (a results text's link
# follows its words by itself, ``templates.RESULTS_LINK_SLOT``).
NO_LINK = ("The practice's approved words hold {secure_link}, and this page makes no link to "
           "put there (a results text's link follows its words by itself, for a patient who "
           "agreed to the portal). A practice admin must approve words without it first.")


def _unrendered(missing: templates.MissingValue) -> tuple[str | None, str]:
    """The form's field and the error for words that need a value the page does not have."""
    if missing.slot is templates.Slot.SECURE_LINK:
        return None, NO_LINK
    return "provider", NO_PROVIDER


def _preview(request: PracticeRequest, patient: Patient,
             data: dict[str, Any]) -> str | templates.MissingValue:
    """The words as the patient will get them, in their language, or the value they need
    that was not given (the provider, mostly)."""
    purpose, channel = data["purpose"], data["channel"]
    values = templates.Values(provider=data.get("provider"), reason=PURPOSE_REASON[purpose])
    try:
        if channel in SPOKEN:
            # Either is a call: a person hears the voice words, a machine gets the voicemail
            # words (which name the provider's office), so both must render.
            for spoken in SPOKEN - {channel}:
                _words(request, patient, purpose, spoken, values)
        return _words(request, patient, purpose, channel, values)
    except templates.MissingValue as missing:
        return missing


def _words(request: PracticeRequest, patient: Patient, purpose: str, channel: str,
           values: templates.Values) -> str:
    language = decisions.language_for(patient, purpose, channel)
    live = service.live(request.practice, (purpose, channel, language))
    return templates.render(live.body, practice=request.practice, channel=channel,
                            language=language, values=values)


def _link_follows(patient: Patient, data: dict[str, Any]) -> bool:
    """A results text to a patient who consented to the portal for results carries the
    results link after the words (read now; the request reads it again)."""
    return (data.get("purpose") == Purpose.RESULTS_READY and data.get("channel") == Channel.SMS
            and consent.state(patient, Channel.PORTAL, Purpose.RESULTS_READY).allowed)


@member_view(Perm.VIEW_PATIENT)
def send_message(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    purposes = purposes_for(request.membership.role)
    if not purposes:
        raise Http404("No such page.")
    patient = _patient(request, patient_id)  # a foreign id is a 404 for any method
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if (refusal := _open_or_refuse(request, patient)) is not None:
        return refusal
    channels = consented_channels(patient, purposes)
    providers = Provider.objects.for_practice(request.practice).order_by("display_name")
    bound = request.POST if request.method == "POST" else (
        request.GET if "purpose" in request.GET else None)
    form = SendForm(bound, purposes=purposes, channels=channels, providers=providers,
                    initial={"key": uuid.uuid4()})
    preview, decision, status, link_follows = "", None, 200, False
    if bound is not None and form.is_valid():
        rendered = _preview(request, patient, form.cleaned_data)
        preview = rendered if isinstance(rendered, str) else ""
        link_follows = _link_follows(patient, form.cleaned_data)
        if isinstance(rendered, templates.MissingValue):
            form.add_error(*_unrendered(rendered))
        elif request.method == "POST":
            decision = _send(request, patient, form.cleaned_data)
            # The next message is another: a new key, the same choices.
            form = SendForm(purposes=purposes, channels=channels, providers=providers,
                            initial={**form.cleaned_data, "key": uuid.uuid4()})
    elif bound is not None:
        status = 400
    record(Action.VIEW, request=request, practice=request.practice, obj=patient,
           patient=patient, fields=["display_name", "contact_points"])
    return render(request, "outreach/send.html", {
        "patient": patient, "form": form, "preview": preview, "decision": decision,
        "said": _said(decision), "channels": channels, "link_follows": link_follows},
        status=status if not form.errors else 400)


def _send(request: PracticeRequest, patient: Patient, data: dict[str, Any]) -> SendDecision:
    purpose, key = data["purpose"], f"staff-{data['key']}"
    earlier = (SendDecision.objects.for_practice(request.practice)
               .filter(patient=patient, idempotency_key=key).order_by("-created_at").first())
    if earlier is not None:  # the same form sent again: what was decided then, nothing new
        return earlier
    if purpose == Purpose.RESULTS_READY:
        decision = results.request(request.practice, patient, by=request.user,
                                   channel=data["channel"], provider=data.get("provider"),
                                   idempotency_key=key).decision
    else:
        decision = decisions.send(
            request.practice, patient, purpose=purpose, channel=data["channel"],
            reason=PURPOSE_REASON[purpose],
            values=templates.Values(provider=data.get("provider")), idempotency_key=key,
            by=request.user)
    record(Action.SEND_MESSAGE, request=request, practice=request.practice, obj=decision,
           patient=patient, reason=f"{purpose} by {decision.channel}: {decision.outcome}"
           + (f" ({decision.reason})" if decision.reason else ""))
    return decision


def _said(decision: SendDecision | None) -> str:
    if decision is None:
        return ""
    if decision.outcome in OUTCOME_WORDS:
        return OUTCOME_WORDS[decision.outcome]
    return f"Not sent: {Why(decision.reason).label}."
