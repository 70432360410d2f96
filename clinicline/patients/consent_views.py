"""The patient page's consent and preference forms, and the ledger's export as evidence."""

from __future__ import annotations

import csv
import io
import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone

from clinicline.accounts.access import PracticeRequest, member_view, reauth_required
from clinicline.accounts.roles import Perm
from clinicline.audit.models import Action
from clinicline.audit.service import record as audit
from clinicline.patients import consent
from clinicline.patients.access import consent_purposes, reads_evidence
from clinicline.patients.consent import InvalidEntry
from clinicline.patients.forms import ConsentForm, PreferenceForm
from clinicline.patients.models import ConsentEntry, Patient
from clinicline.patients.views import _open_or_refuse, _patient, consent_fields, page

# A spreadsheet runs a cell that starts with one of these as a formula; evidence notes are
# typed by people (OWASP's CSV injection advice: a leading apostrophe makes it text).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("entry", "took_effect_utc", "took_effect_local", "recorded_utc", "channel",
                  "purpose", "decision", "scope", "source", "recorded_by", "contact",
                  "evidence")
RECORDED = "recorded"  # what a role that does not read notes sees instead of one


def _opened(request: PracticeRequest, patient_id: uuid.UUID,
            methods: tuple[str, ...] = ("POST",)) -> Patient | HttpResponse:
    """The patient if the member may open the record, else the answer to give instead."""
    patient = _patient(request, patient_id)  # first: a foreign id is a 404 for any method
    if request.method not in methods:
        return HttpResponseNotAllowed(list(methods))
    return _open_or_refuse(request, patient) or patient


@member_view(Perm.VIEW_PATIENT)
def record_consent(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Append one entry, recorded by the signed-in member."""
    purposes = consent_purposes(request.membership.role)
    if not purposes:
        raise Http404("No such page.")
    patient = _opened(request, patient_id)
    if isinstance(patient, HttpResponse):
        return patient
    form = ConsentForm(request.POST, purposes=purposes)
    with timezone.override(request.practice.tz):  # "took effect" is typed in local time
        valid = form.is_valid()
    if valid:
        try:
            consent.record(patient, by=request.user, request=request, **form.entry_values())
        except InvalidEntry as refused:
            form.add_error(None, str(refused))
    if form.errors:
        return page(request, patient, consent_form=form, status=400)
    messages.success(request, "Consent recorded.")
    return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)


@member_view(Perm.EDIT_PATIENT)
def preferences(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = _opened(request, patient_id)
    if isinstance(patient, HttpResponse):
        return patient
    form = PreferenceForm(request.POST)
    if not form.is_valid():
        return page(request, patient, preference_form=form, status=400)
    changed = consent.set_preferences(patient, request=request, **form.cleaned_data)
    messages.success(request, "Preferences saved." if changed else "Nothing changed.")
    return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)


@member_view(Perm.VIEW_PATIENT)
def export(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's whole history as CSV. The record is looked up before the password is
    asked again, so another practice's id is a 404 however long ago the member signed in."""
    patient = _opened(request, patient_id, methods=("GET",))
    if isinstance(patient, HttpResponse):
        return patient
    return _export(request, patient)


@reauth_required
def _export(request: PracticeRequest, patient: Patient) -> HttpResponse:
    """The file, made in full and then audited as an export: a failed one is never recorded."""
    entries = consent.history(patient)
    role = request.membership.role
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(EXPORT_COLUMNS)
    for entry in entries:
        writer.writerow([_cell(v) for v in _row(entry, request, reads_evidence(role))])
    audit(Action.CONSENT_EXPORT, request=request, practice=request.practice, obj=patient,
          patient=patient, fields=consent_fields(role, entries) or ["consent_entries"],
          reason=f"consent history as CSV: {len(entries)} entries")
    # The file's name carries no PHI: a short reference to the record, and the day.
    name = f"consent-{str(patient.pk)[:8]}-{timezone.localdate(timezone=request.practice.tz)}"
    response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _row(entry: ConsentEntry, request: PracticeRequest, evidence: bool) -> list[object]:
    """One entry as a line; its evidence note only for a role that reads notes (else
    whether one was recorded)."""
    contact = entry.contact
    by = entry.recorded_by
    return [entry.pk, entry.at.isoformat(), entry.at.astimezone(request.practice.tz).isoformat(),
            entry.created_at.isoformat(), entry.channel, entry.purpose,
            "granted" if entry.granted else "revoked", entry.scope, entry.source,
            by.get_username() if by is not None else "",
            f"{contact.label} {contact.display_value}".strip() if contact is not None
            else ("the number that texted" if entry.number_index else ""),
            entry.evidence if evidence else (RECORDED if entry.evidence else "")]


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
