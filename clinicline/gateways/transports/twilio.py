from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from clinicline.gateways.twiml import call_view
from clinicline.outbox.models import Channel, Delivery
from clinicline.outbox.transports import Transport, TransportError
from clinicline.practices.models import GatewayAccount, current_baa

VENDOR = "twilio"
# The library waits forever by default; a hung connection would hold the worker (and every
# page behind it) until the delivery is requeued as stuck.
TIMEOUT_S = 15


def client_for(account: GatewayAccount, http_client: HttpClient | None = None) -> Client:
    """The practice's own Twilio account (bring your own)."""
    return Client(account.account_sid, account.auth_token,
                  http_client=http_client or TwilioHttpClient(timeout=TIMEOUT_S))


def voice_twiml(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    return str(response)


def status_callback() -> str:
    """Where Twilio reports what became of a message or call: it signs this URL, and the
    status webhook rebuilds it from the same SITE_URL."""
    return settings.SITE_URL.rstrip("/") + reverse("gateways:twilio_status")


def call_url(delivery: Delivery) -> str:
    """A call that asks and listens starts at its webhook (a page's, or a reminder's) with
    the delivery's PHI-free step."""
    view = call_view(delivery.purpose)
    return f"{settings.SITE_URL.rstrip('/')}{reverse(view)}?{delivery.call_step}"


class TwilioTransport(Transport):
    """SMS and voice through the practice's own Twilio account, while its BAA is current."""

    name = "twilio"

    def send(self, delivery: Delivery) -> str:
        account = GatewayAccount.objects.select_related("practice").filter(
            practice_id=delivery.practice_id).first()
        if account is None:
            raise TransportError("this practice has no Twilio account configured",
                                 permanent=True)
        if current_baa(account.practice, VENDOR) is None:
            raise TransportError("no current BAA with Twilio on record", permanent=True)
        client = client_for(account)
        try:
            if delivery.channel == Channel.SMS:
                sent = client.messages.create(to=delivery.to, from_=account.phone_number,
                                              body=delivery.body,
                                              status_callback=status_callback())
            elif delivery.call_step:
                # A call that asks and listens: its first request is our page webhook, with
                # the delivery's PHI-free step (Twilio signs the whole URL). Twilio tells
                # that webhook whether a person or a machine answered.
                sent = client.calls.create(to=delivery.to, from_=account.phone_number,
                                           url=call_url(delivery),
                                           machine_detection="Enable",
                                           status_callback=status_callback())
            else:
                sent = client.calls.create(to=delivery.to, from_=account.phone_number,
                                           twiml=voice_twiml(delivery.body),
                                           status_callback=status_callback())
        except TwilioRestException as exc:
            # 4xx: the request itself is wrong (bad number, unsubscribed): retrying won't help.
            # 429 is "slow down", and 5xx the carrier's own trouble: both pass.
            raise TransportError(f"Twilio {exc.status} error {exc.code}",
                                 permanent=400 <= exc.status < 500 and exc.status != 429) from None
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            raise TransportError(f"Twilio unreachable: {type(exc).__name__}") from None
        except (ValueError, KeyError) as exc:
            # An answer we cannot read. Twilio may have taken the message, but one duplicate
            # is better than a page that silently never went out.
            raise TransportError(f"Twilio answered unreadably: {type(exc).__name__}") from None
        if not sent.sid:
            raise TransportError("Twilio answered without a message id")
        return sent.sid
