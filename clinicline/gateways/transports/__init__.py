"""The vendor transports. Each is a small class with one verb, ``send``. (The loopback
transport, whose phones are the simulator's, is the simulator app's and registers itself.)"""

from clinicline.gateways.transports.inapp import InAppTransport
from clinicline.gateways.transports.smtp import SMTPTransport
from clinicline.gateways.transports.twilio import TwilioTransport
from clinicline.outbox.transports import Transport


def all_transports() -> list[Transport]:
    return [TwilioTransport(), SMTPTransport(), InAppTransport()]
