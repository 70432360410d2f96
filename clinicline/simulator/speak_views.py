"""The simulator speaks a script's words, as the phone line would say them (the scripts
page's "Hear it"): the practice's words only, never a caller's, and never in production."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from clinicline.accounts.access import PracticeRequest
from clinicline.simulator import speech
from clinicline.simulator.views import simulator_view

MAX_CHARS = 600  # a script's longest moment


@simulator_view
@require_POST
def speak(request: PracticeRequest) -> HttpResponse:
    text = " ".join(request.POST.get("text", "").split())
    if not text or len(text) > MAX_CHARS:
        return HttpResponse(f"Give the words to speak: 1 to {MAX_CHARS} characters.",
                            status=400, content_type="text/plain")
    language = request.POST.get("lang", "en")[:5]
    with tempfile.TemporaryDirectory() as folder:
        audio, _ = speech.speak(text, Path(folder), language)
        body = audio.read_bytes()
    response = HttpResponse(body, content_type="audio/wav")
    response["Cache-Control"] = "no-store"
    return response
