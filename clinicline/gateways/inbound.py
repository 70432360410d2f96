"""One inbound webhook as its handler sees it, and the checks every handler shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinicline.gateways.models import InboundWebhook
from clinicline.practices.models import GatewayAccount, Practice

# Twilio's ids are two letters and 32 hex digits, but the published signature vectors and
# the simulator use other lengths; what matters is that an id is a plain token that fits
# the columns it is stored in (a 500 from PostgreSQL's length check is not an answer).
SID = re.compile(r"[A-Za-z0-9]{2,64}")
STATE = re.compile(r"[a-z-]{1,32}")
E164 = re.compile(r"\+[1-9]\d{6,14}")
DURATION = re.compile(r"\d{1,6}")


@dataclass
class Inbound:
    """One inbound event. A handler may set ``webhook.processed_at`` and ``webhook.error``;
    they are saved with its answer."""

    account: GatewayAccount
    kind: str
    params: dict[str, str]
    webhook: InboundWebhook
    path: str

    @property
    def practice(self) -> Practice:
        # Loaded on first use: most texts and callbacks need only the practice's id.
        return self.account.practice


class Refusal(Exception):
    """A request we do not take: answered with ``status`` and the message, as plain text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sid(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise Refusal(400, f"Missing {name}.")
    if not SID.fullmatch(value):
        raise Refusal(400, f"{name} is not a Twilio id.")
    return value


def state(params: dict[str, str], name: str, default: str = "") -> str:
    value = params.get(name, default)
    if not STATE.fullmatch(value):
        raise Refusal(400, f"Missing or unknown {name}.")
    return value
