"""The sms webhook, as the domain's text: kept by intake for the worker, answered at once."""

from __future__ import annotations

from clinicline.gateways import twiml
from clinicline.gateways.inbound import Inbound
from clinicline.intake import texts


def sms(inbound: Inbound) -> str:
    params = inbound.params
    reply = texts.receive_text(inbound.account.practice_id, message_sid=params["MessageSid"],
                               sender=params.get("From", ""), body=params.get("Body", ""))
    return twiml.message(reply)


def fallback(inbound: Inbound) -> str:
    """When keeping the text failed: the same PHI-free emergency line, so nobody who texts
    about an emergency is left without it. (The ledger row keeps the text.)"""
    return twiml.message(texts.AUTO_REPLY_TEXT)
