"""What a transport is, and which one carries a delivery.

A transport only talks to its vendor: one verb, ``send``. Consent, quiet hours and the PHI
guard are decided before a delivery exists; the outbox's last screen and the retries live
in ``outbox.service``, once for every vendor. Transports are registered by the edge
(``gateways``), and chosen per practice and channel by a selector it registers too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clinicline.outbox.models import Delivery


class TransportError(Exception):
    """Sending failed. ``permanent`` errors are not retried (a bad number, no BAA)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport:
    name = "base"
    # Our own channels (in-app) know at once that the message arrived; a carrier says so
    # later, in a status callback.
    delivered_on_send = False

    def send(self, delivery: Delivery) -> str:
        """Hand the delivery to the vendor; returns the vendor's id for it."""
        raise NotImplementedError


_transports: dict[str, Transport] = {}
_selector: Callable[[Delivery], str] | None = None


def register(transport: Transport) -> Transport:
    _transports[transport.name] = transport
    return transport


def set_selector(selector: Callable[[Delivery], str]) -> None:
    """Install the function that names the transport for a delivery (the gateways app's)."""
    global _selector
    _selector = selector


def transport_for(delivery: Delivery) -> Transport:
    if _selector is None:
        raise TransportError("no gateway is installed to carry messages", permanent=True)
    name = _selector(delivery)
    try:
        return _transports[name]
    except KeyError:
        raise TransportError(f"no transport named {name!r}", permanent=True) from None
