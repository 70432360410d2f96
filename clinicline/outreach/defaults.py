"""The words clinicline ships for every purpose, channel and language it sends.

A practice sends these until it approves words of its own; they count as approved
("shipped"). They follow the guidance on leaving messages: the provider or practice, a
vague reason and the callback number, never a patient's name or any detail. The voicemail
is the one the guidance quotes: "Hello, this is a message from Dr. Osei's office regarding
your appointment. Please call us back at 617-555-0100. Thank you."

A practice that keeps its name out of messages gets the same words with ``{practice}``
replaced by its provider's office (``anonymous``).
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicline.outreach.kinds import Channel, Language, Purpose

R, RES = Purpose.APPOINTMENT_REMINDERS, Purpose.RESULTS_READY
CARE, BILL = Purpose.CARE_TEAM, Purpose.BILLING
SMS, VOICE, VM, EMAIL = Channel.SMS, Channel.VOICE, Channel.VOICEMAIL, Channel.EMAIL
EN, ES = Language.EN, Language.ES

VOICEMAIL = {
    EN: "Hello, this is a message from {provider}'s office regarding {reason}. "
        "Please call us back at {callback_number}. Thank you.",
    ES: "Hola, este es un mensaje del consultorio de {provider} sobre {reason}. "
        "Por favor, llámenos al {callback_number}. Gracias.",
}
CALL_US = {
    EN: "Hello, this is {practice} calling about {reason}. Please call us back at "
        "{callback_number}. Thank you.",
    ES: "Hola, le llamamos de {practice} sobre {reason}. Por favor, llámenos al "
        "{callback_number}. Gracias.",
}
EMAIL_LINK = {
    EN: "Hello,\n\nThere is a message from {practice} about {reason} waiting for you. "
        "You can read it at {secure_link} after confirming who you are, or call us at "
        "{callback_number}.\n\nThank you,\n{practice}",
    ES: "Hola:\n\nTiene un mensaje de {practice} sobre {reason}. Puede leerlo en "
        "{secure_link} después de confirmar su identidad, o llamarnos al "
        "{callback_number}.\n\nGracias,\n{practice}",
}

# (purpose, channel, language): (words, exempt)
SHIPPED: dict[tuple[str, str, str], tuple[str, bool]] = {
    (R, SMS, EN): ("{practice}: appt {appointment_at}. Reply C to confirm, R to reschedule. "
                   "Call {callback_number}. Reply STOP to opt out.", True),
    (R, SMS, ES): ("{practice}: cita {appointment_at}. Responda C para confirmar, R para "
                   "cambiarla. Llame al {callback_number}. Responda STOP para darse de baja.",
                   False),
    (R, VOICE, EN): ("Hello, this is {practice} with a reminder of your appointment with "
                     "{provider} on {appointment_at}. To confirm, press 1. To cancel, press 2. "
                     "To reschedule, press 3. To reach the office, call {callback_number}.",
                     False),
    (R, VOICE, ES): ("Hola, le llamamos de {practice} para recordarle su cita con {provider} "
                     "el {appointment_at}. Para confirmar, oprima 1. Para cancelar, oprima 2. "
                     "Para cambiar la cita, oprima 3. Para comunicarse con la oficina, llame "
                     "al {callback_number}.", False),
    (R, EMAIL, EN): ("Hello,\n\nThis is a reminder from {practice} of your appointment with "
                     "{provider} on {appointment_at}. To confirm or change it, call us at "
                     "{callback_number}.\n\nThank you,\n{practice}", False),
    (R, EMAIL, ES): ("Hola:\n\nLe recordamos de parte de {practice} su cita con {provider} el "
                     "{appointment_at}. Para confirmarla o cambiarla, llámenos al "
                     "{callback_number}.\n\nGracias,\n{practice}", False),
    (RES, SMS, EN): ("{practice}: Your results are ready. Please call the office at "
                     "{callback_number}. Reply STOP to opt out.", True),
    (RES, SMS, ES): ("{practice}: Sus resultados estan listos. Llame a la oficina al "
                     "{callback_number}. Responda STOP para darse de baja.", True),
    (RES, VOICE, EN): ("Hello, this is {practice}. Your results are ready. Please call the "
                       "office at {callback_number}. Thank you.", False),
    (RES, VOICE, ES): ("Hola, le llamamos de {practice}. Sus resultados están listos. Por "
                       "favor, llame a la oficina al {callback_number}. Gracias.", False),
    (CARE, SMS, EN): ("{practice}: please call us at {callback_number} about {reason}. "
                      "Reply STOP to opt out.", True),
    (CARE, SMS, ES): ("{practice}: llamenos al {callback_number} sobre {reason}. Responda "
                      "STOP para darse de baja.", False),
    (BILL, SMS, EN): ("{practice}: please call us at {callback_number} about {reason}. "
                      "Reply STOP to opt out.", False),
    (BILL, SMS, ES): ("{practice}: llamenos al {callback_number} sobre {reason}. Responda "
                      "STOP para darse de baja.", False),
}
for purpose in (RES, CARE, BILL):
    for language in Language:
        SHIPPED[(purpose, VM, language)] = (VOICEMAIL[language], False)
        SHIPPED.setdefault((purpose, VOICE, language), (CALL_US[language], False))
        SHIPPED[(purpose, EMAIL, language)] = (EMAIL_LINK[language], False)
for language in Language:
    SHIPPED[(R, VM, language)] = (VOICEMAIL[language], False)

OFFICE = {EN: "{provider}'s office", ES: "el consultorio de {provider}"}


@dataclass(frozen=True)
class Shipped:
    body: str
    exempt: bool


def shipped(purpose: str, channel: str, language: str, *, named: bool = True) -> Shipped:
    """The default for one kind; ``named=False``: for a practice that keeps its name out."""
    body, exempt = SHIPPED[(purpose, channel, language)]
    if not named:
        if language == ES:
            body = body.replace("de {practice}", "del consultorio de {provider}")
        body = body.replace("{practice}", OFFICE[Language(language)])
    return Shipped(body, exempt)
