"""The closed sets outreach is built from: what a message is for, how it travels, in which
language, and the few words a ``{reason}`` may say."""

from __future__ import annotations

from django.db import models

from clinicline.patients.models import Channel as Channel  # re-exported: outreach speaks of both
from clinicline.patients.models import Language as Language
from clinicline.patients.models import Purpose as Purpose

# One closed list of purposes and one of channels, shared with the consent ledger, so a
# template's purpose is the very word its consent is recorded under. The ledger also knows
# "every purpose" (what a STOP revokes) and the secure portal (what a results link needs);
# nothing outreach writes is either, so its own fields choose among these.
PURPOSES = (Purpose.APPOINTMENT_REMINDERS, Purpose.RESULTS_READY, Purpose.CARE_TEAM,
            Purpose.BILLING)
CHANNELS = (Channel.SMS, Channel.VOICE, Channel.VOICEMAIL, Channel.EMAIL)
PURPOSE_CHOICES = [(p.value, p.label) for p in PURPOSES]
CHANNEL_CHOICES = [(c.value, c.label) for c in CHANNELS]
SPOKEN = frozenset({Channel.VOICE, Channel.VOICEMAIL})


class Reason(models.TextChoices):
    """Why we are asking the patient to get in touch, in words that reveal nothing more
    (``REASON_WORDS``). "Results" says a test was done; the guidance's own example uses it,
    and it says nothing about which test or what it found."""

    APPOINTMENT = "appointment", "appointment"
    INVOICE = "invoice", "invoice"
    RESULTS = "results", "results"
    CARE_TEAM = "care-team", "care-team message"


REASON_WORDS: dict[Reason, dict[str, str]] = {
    Reason.APPOINTMENT: {"en": "your appointment", "es": "su cita"},
    Reason.INVOICE: {"en": "your account", "es": "su cuenta"},
    Reason.RESULTS: {"en": "your results", "es": "sus resultados"},
    Reason.CARE_TEAM: {"en": "a message from your care team",
                       "es": "un mensaje de su equipo de atención"},
}

# The reason a message of each purpose gives (what a preview shows).
PURPOSE_REASON: dict[str, Reason] = {
    Purpose.APPOINTMENT_REMINDERS: Reason.APPOINTMENT, Purpose.RESULTS_READY: Reason.RESULTS,
    Purpose.CARE_TEAM: Reason.CARE_TEAM, Purpose.BILLING: Reason.INVOICE,
}
