"""The results-ready link's page, for the patient: no sign-in, no practice in the URL, and
nothing shown until the date of birth is right. A wrong, locked, expired or unknown link,
and a throttled address, each get a 4xx with words a patient understands."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.outreach import results, templates
from clinicline.outreach.voice_models import ResultsLink

TEMPLATE = "outreach/results_link.html"
EARLIEST = dt.date(1900, 1, 1)


class BirthDateForm(forms.Form):
    date_of_birth = forms.DateField(
        label="Your date of birth", input_formats=["%Y-%m-%d", "%m/%d/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        error_messages={"required": "Enter your date of birth.",
                        "invalid": "Enter your date of birth as month/day/year."})

    def clean_date_of_birth(self) -> dt.date:
        value: dt.date = self.cleaned_data["date_of_birth"]
        if not EARLIEST <= value <= dt.date.today():
            raise forms.ValidationError("Enter your own date of birth: that date cannot be it.")
        return value


def page(request: HttpRequest, link: ResultsLink | None, form: BirthDateForm, *,
         status: int = 200, error: str = "", shown: bool = False) -> HttpResponse:
    practice = link.practice if link else None
    number = practice.callback_number if practice else ""
    # A practice whose name reveals a specialty keeps it out of messages: this page too,
    # until the date of birth is right.
    named = practice is not None and (shown or practice.name_in_messages)
    return render(request, TEMPLATE, {"link": link, "form": form, "error": error,
                                      "shown": shown, "office": practice, "number": number,
                                      "office_name": practice.name if named and practice
                                      else "your doctor's office",
                                      "written": templates.written_number(number) if number
                                      else "",
                                      "tries_left": ResultsLink.MAX_ATTEMPTS - (
                                          link.attempts if link else 0)}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def results_link(request: HttpRequest, token: str) -> HttpResponse:
    link = results.by_token(token)
    if link is None:
        raise Http404("This link has expired or does not exist. Please call the office.")
    if results.locked(link):
        return page(request, link, BirthDateForm(), status=403, error=(
            "This link is locked after too many tries. Please call the office."))
    if request.method == "GET":
        record(Action.RESULTS_LINK, request=request, practice=link.practice_id, obj=link,
               patient=link.patient_id, reason="opened (date of birth asked)")
        return page(request, link, BirthDateForm())
    if results.throttled(request):
        return page(request, link, BirthDateForm(), status=429, error=(
            "Too many tries from this device. Please wait ten minutes, or call the office."))
    form = BirthDateForm(request.POST)
    if not form.is_valid():
        return page(request, link, form, status=400)
    if not results.attempt(link, form.cleaned_data["date_of_birth"], request=request):
        link.refresh_from_db()
        if results.locked(link):
            return page(request, link, BirthDateForm(), status=403, error=(
                "This link is locked after too many tries. Please call the office."))
        return page(request, link, BirthDateForm(), status=400, error=(
            "That date of birth does not match our records."))
    record(Action.VIEW, request=request, practice=link.practice_id, obj=link,
           patient=link.patient_id, fields=["results_ready"], reason="results link",
           outcome=Outcome.SUCCESS)
    return page(request, link, BirthDateForm(), shown=True)
