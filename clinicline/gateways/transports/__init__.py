"""The vendor transports. Each is a small class with one verb, ``send``."""

from clinicline.gateways.transports.inapp import InAppTransport
from clinicline.gateways.transports.loopback import LoopbackTransport
from clinicline.gateways.transports.smtp import SMTPTransport
from clinicline.gateways.transports.twilio import TwilioTransport
from clinicline.outbox.transports import Transport


def all_transports() -> list[Transport]:
    return [LoopbackTransport(), TwilioTransport(), SMTPTransport(), InAppTransport()]
