"""TOTP devices and one-time recovery codes (django-otp)."""

from __future__ import annotations

import math

import segno
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import User

RECOVERY_CODES = 10
RECOVERY_DEVICE = "recovery codes"


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user: User) -> TOTPDevice:
    """The device being enrolled: made once, shown as a QR code until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def qr_data_uri(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5)


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the plaintext is shown once and never stored."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE,
                                                       defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


class TooSoon(Exception):
    """django-otp's throttle: after a wrong code a device refuses every code, the right one
    too, for 1, 2, 4, 8… seconds. Saying "wrong code" then would be untrue."""

    def __init__(self, wait_s: int) -> None:
        self.wait_s = wait_s
        super().__init__(f"too many tries; wait {wait_s} s")

    @property
    def message(self) -> str:
        seconds = f"{self.wait_s} second{'s' if self.wait_s != 1 else ''}"
        return f"Too many tries: wait {seconds}, then try again with the code shown then."


def wait_s(device: Device) -> int:
    """How long the device's throttle still refuses codes: 0 if it takes one now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    until = (data or {}).get("locked_until")
    return max(1, math.ceil((until - timezone.now()).total_seconds())) if until else 1


def verify_enrolment(device: TOTPDevice, code: str) -> bool:
    """Whether the device being enrolled takes ``code``; raises ``TooSoon``."""
    if wait := wait_s(device):
        raise TooSoon(wait)
    return device.verify_token(code.replace(" ", ""))


def verify_code(user: User, code: str) -> Device | None:
    """The confirmed device that accepts this code (a recovery code is used up), or None;
    raises ``TooSoon`` when no device took it and one was refusing codes for a while."""
    code = code.replace(" ", "").replace("-", "").strip()
    if not code:
        return None
    waits = []
    for device in devices_for_user(user, confirmed=True):
        if wait := wait_s(device):
            waits.append(wait)
        elif device.verify_token(code):
            return device
    if waits:
        raise TooSoon(max(waits))  # after that, every device takes a code again
    return None
