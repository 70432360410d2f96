"""The closed sets outreach is built from: what a message is for, how it travels, in which
language, and the few words a ``{reason}`` may say."""

from __future__ import annotations

from django.db import models


class Purpose(models.TextChoices):
    REMINDER = "appointment-reminder", "appointment reminder"
    RESULTS = "results-ready", "results ready"
    CARE_TEAM = "care-team", "care-team message (please call us)"
    BILLING = "billing", "billing"


class Channel(models.TextChoices):
    SMS = "sms", "text message"
    VOICE = "voice", "phone call (a person answers)"
    VOICEMAIL = "voicemail", "voicemail (a machine answers)"
    EMAIL = "email", "email"


SPOKEN = frozenset({Channel.VOICE, Channel.VOICEMAIL})


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"


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
    Purpose.REMINDER: Reason.APPOINTMENT, Purpose.RESULTS: Reason.RESULTS,
    Purpose.CARE_TEAM: Reason.CARE_TEAM, Purpose.BILLING: Reason.INVOICE,
}
