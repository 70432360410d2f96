import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from clinicline.accounts.access import (
    PracticeRequest,
    member_view,
    reauth_required,
    scoped_or_404,
)
from clinicline.accounts.forms import BreakGlassForm
from clinicline.accounts.models import BreakGlassGrant, Membership
from clinicline.accounts.roles import CLINICAL, Perm, Role, allows
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.outbox.models import Channel
from clinicline.outbox.service import enqueue
from clinicline.patients import consent, service
from clinicline.patients.access import (
    Access,
    access_to,
    break_glass,
    consent_purposes,
    identifiers_in,
    reads_evidence,
)
from clinicline.patients.forms import (
    ConsentForm,
    OnboardingConsentForm,
    PatientForm,
    PhoneForm,
    PreferenceForm,
    SearchForm,
)
from clinicline.patients.models import Channel as ConsentChannel
from clinicline.patients.models import ConsentEntry, Patient, Purpose, Source

SHOWN = ("given_name", "family_name", "date_of_birth", "mrn", "address")
LISTED = ("given_name", "family_name", "date_of_birth")


@member_view(Perm.VIEW_PATIENT)
def search(request: PracticeRequest) -> HttpResponse:
    """Search is a POST so that what was typed never lands in a URL or an access log."""
    form = SearchForm(request.POST or None)
    results = None
    if form.is_valid():
        data, practice = form.cleaned_data, request.practice
        if data["phone"]:
            results = service.find_by_phone(practice, data["phone"])
        elif data["mrn"]:
            results = service.find_by_mrn(practice, data["mrn"])
        else:
            results = service.find_by_name_dob(practice, data["given_name"], data["family_name"],
                                               data["date_of_birth"])
        for patient in results:
            record(Action.SEARCH, request=request, practice=practice, obj=patient,
                   patient=patient, fields=LISTED)
    return render(request, "patients/search.html", {"form": form, "results": results},
                  status=400 if form.errors else 200)


def _patient(request: PracticeRequest, patient_id: uuid.UUID) -> Patient:
    return scoped_or_404(Patient.objects.all(), request.practice, pk=patient_id)


def _open_or_refuse(request: PracticeRequest, patient: Patient) -> HttpResponse | None:
    """None if the member may open the record; otherwise the response to give instead."""
    access = access_to(request.membership, patient)
    if access is Access.OPEN:
        return None
    record(Action.DENIED, request=request, practice=request.practice, obj=patient,
           patient=patient, outcome=Outcome.DENIED)
    if access is Access.NONE:
        raise Http404("No such page.")
    return render(request, "patients/break_glass.html", {"patient_id": patient.pk}, status=403)


@member_view()
def detail(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, patient_id)
    if (refusal := _open_or_refuse(request, patient)) is not None:
        return refusal
    return page(request, patient)


def page(request: PracticeRequest, patient: Patient, *, consent_form: ConsentForm | None = None,
         preference_form: PreferenceForm | None = None, status: int = 200) -> HttpResponse:
    """The patient page, audited with what it shows; the consent pages answer a bad form with
    it, the form's errors in place."""
    contacts = list(patient.contact_points.all())
    entries = consent.history(patient)
    pref = consent.preferences(patient)
    role = request.membership.role
    record(Action.VIEW, request=request, practice=request.practice, obj=patient, patient=patient,
           fields=[*SHOWN, *(["contact_points"] if contacts else []),
                   *consent_fields(role, entries),
                   *(["contact_preference"] if pref.pk else [])])
    purposes = consent_purposes(role)
    can_edit = allows(role, Perm.EDIT_PATIENT)
    blocked = [(c, consent.number_blocked(c)) for c in contacts]
    return render(request, "patients/detail.html", {
        "patient": patient, "contacts": blocked,
        "stopped_numbers": [c.display_value for c, stop in blocked if stop],
        "phone_form": PhoneForm(), "can_edit": can_edit, "grid": consent_grid(patient),
        # Outreach's "Send a message" (clinical staff, the front desk; billing for bills).
        "can_send": role in CLINICAL or role in (Role.FRONT_DESK, Role.BILLING),
        "purposes": [Purpose(p).label for p in consent.ASKED],
        "history": entries, "preference": pref, "shows_evidence": reads_evidence(role),
        "consent_form": consent_form or (ConsentForm(purposes=purposes) if purposes else None),
        "preference_form": preference_form or (
            PreferenceForm(initial=PreferenceForm.initial_for(pref)) if can_edit else None),
    }, status=status)


def consent_fields(role: str, entries: list[ConsentEntry]) -> list[str]:
    """What of the consent history a member is shown, as the audit row names it: the
    entries, and their evidence notes only for a role that reads them."""
    shown = ["consent_entries"] if entries else []
    if reads_evidence(role) and any(e.evidence for e in entries):
        shown.append("consent_evidence")
    return shown


def consent_grid(patient: Patient) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Rows of the channel x purpose grid: (channel, its label, a cell for each purpose)."""
    states = consent.grid(patient)
    return [(channel, label, [{"purpose_label": Purpose(purpose).label,
                               "state": states[channel][purpose]} for purpose in consent.ASKED])
            for channel, label in ConsentChannel.choices]


@member_view(Perm.EDIT_PATIENT)
def create(request: PracticeRequest) -> HttpResponse:
    """A new patient, asked at once what they consent to and how they like to be reached."""
    bound = (PatientForm(request.POST or None), PhoneForm(request.POST or None, prefix="contact"),
             OnboardingConsentForm(request.POST or None, prefix="consent"),
             PreferenceForm(request.POST or None, prefix="pref"))
    form, phone_form, consent_form, preference_form = bound
    if all([f.is_valid() for f in bound]):  # a list: every form shows its errors
        with transaction.atomic():
            patient = service.create_patient(request.practice, request=request,
                                             **form.patient_values())
            service.add_contact(patient, "phone", phone_form.cleaned_data["phone"],
                                label=phone_form.cleaned_data["label"], request=request)
            onboard(request, patient, consent_form.cleaned_data, preference_form.cleaned_data)
        messages.success(request, "Patient added.")
        return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)
    return render(request, "patients/form.html", {
        "form": form, "phone_form": phone_form, "consent_form": consent_form,
        "preference_form": preference_form}, status=400 if request.method == "POST" else 200)


def onboard(request: PracticeRequest, patient: Patient, answers: dict[str, Any],
            prefs: dict[str, Any]) -> None:
    """Registration's answers into the ledger: each ticked channel granted for each ticked
    purpose; once the patient has answered, each channel left unticked revoked. Unasked,
    nothing is recorded (the page says "not asked")."""
    if answers["asked"]:
        for channel in ConsentChannel.values:
            chosen = channel in answers["channels"]
            for purpose in answers["purposes"] if chosen else [Purpose.ALL]:
                consent.record(patient, channel=channel, purpose=purpose, granted=chosen,
                               source=Source.REGISTRATION, by=request.user, request=request,
                               evidence="asked at registration")
    consent.set_preferences(patient, request=request, **prefs)


@member_view(Perm.EDIT_PATIENT)
def edit(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, patient_id)
    if (refusal := _open_or_refuse(request, patient)) is not None:
        return refusal
    form = PatientForm(request.POST or None, initial=PatientForm.initial_for(patient))
    if form.is_valid():
        changed = service.update_patient(patient, request=request, **form.patient_values())
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)
    if request.method == "GET":
        record(Action.VIEW, request=request, practice=request.practice, obj=patient,
               patient=patient, fields=SHOWN)
    return render(request, "patients/form.html", {"form": form, "patient": patient},
                  status=400 if request.method == "POST" else 200)


@member_view(Perm.EDIT_PATIENT)
def add_phone(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, patient_id)  # first, so a foreign id is a 404 for any method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if (refusal := _open_or_refuse(request, patient)) is not None:
        return refusal
    form = PhoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)
    service.add_contact(patient, "phone", form.cleaned_data["phone"],
                        label=form.cleaned_data["label"], request=request)
    messages.success(request, "Phone number added (not yet verified).")
    return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)


@member_view(Perm.BREAK_GLASS)
@reauth_required
def break_glass_view(request: PracticeRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Asks for re-authentication first, then a reason; POST opens the record."""
    patient = _patient(request, patient_id)
    if access_to(request.membership, patient) is Access.OPEN:
        return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)
    if request.method != "POST":
        return render(request, "patients/break_glass_form.html",
                      {"patient_id": patient.pk, "form": BreakGlassForm()})
    form = BreakGlassForm(request.POST)
    if form.is_valid() and identifiers_in(form.cleaned_data["explanation"], patient):
        form.add_error("explanation", "Leave out names, dates and numbers: explain the need.")
    if not form.is_valid():
        return render(request, "patients/break_glass_form.html",
                      {"patient_id": patient.pk, "form": form}, status=400)
    membership = request.membership
    break_glass(request, membership, patient, form.cleaned_data["reason"],
                form.cleaned_data["explanation"],
                notify=lambda grant: notify_compliance(grant, membership))
    return redirect("patients:detail", practice=request.practice.slug, patient_id=patient.pk)


def notify_compliance(grant: BreakGlassGrant, membership: Membership) -> None:
    """Queue an email to each of the practice's compliance officers through the outbox (so
    a mail server that is down delays it, never loses it). It names the member, never the
    patient; no year either, which the outbox's last screen would take for a birth date."""
    practice = membership.practice
    url = settings.SITE_URL + reverse("audit:events", kwargs={"practice": practice.slug})
    body = (f"[clinicline] Break-glass access at {practice.name}\n"
            f"{membership.user.get_username()} ({membership.get_role_display()}) used "
            f"break-glass access to a restricted record at {grant.granted_at:%H:%M} UTC on "
            f"{grant.granted_at:%b %d}, reason: {grant.get_reason_display()}.\n"
            f"Review it in the audit trail: {url}?action={Action.BREAK_GLASS}\n")
    officers = (Membership.objects.filter(practice=practice, role=Role.COMPLIANCE_OFFICER)
                .select_related("user"))
    for officer in officers:
        if officer.user.email:
            enqueue(practice, channel=Channel.EMAIL, to=officer.user.email, body=body,
                    purpose="notification",
                    idempotency_key=f"break-glass:{grant.pk}:{officer.user_id}")
