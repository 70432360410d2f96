"""Which transport carries a delivery: the edge's answer to the outbox's question."""

from __future__ import annotations

from django.conf import settings

from clinicline.outbox import transports
from clinicline.outbox.models import Channel, Delivery
from clinicline.outbox.transports import TransportError
from clinicline.practices.models import GatewayAccount


def transport_name(delivery: Delivery) -> str:
    if delivery.channel == Channel.EMAIL:
        return "smtp"
    if delivery.channel == Channel.IN_APP:
        return "in-app"
    account = GatewayAccount.objects.filter(practice_id=delivery.practice_id).first()
    if account is None:
        if settings.LOOPBACK_GATEWAY:
            return "loopback"
        raise TransportError("this practice has no telephony gateway configured",
                             permanent=True)
    return "loopback" if account.test_mode else "twilio"


def install() -> None:
    """Register the transports and the selector with the outbox."""
    from clinicline.gateways.transports import all_transports  # noqa: PLC0415 (app loading)

    for transport in all_transports():
        transports.register(transport)
    transports.set_selector(transport_name)
