"""A member's contact methods: adding them, proving a number or address is theirs with a
code sent to it, and the order they are tried in when a page reaches the member.

A code is 6 digits from ``secrets``, kept only as an HMAC keyed with SECRET_KEY (six digits
are a million guesses: a plain hash would fall to a laptop, a keyed one needs the key too).
It lasts 10 minutes, takes 5 wrong tries before it stops working, and a method gets at most
3 codes an hour, so nobody can make clinicline text a stranger's phone all night. Every
counter moves in a conditional UPDATE, never read-modify-write: two tabs cannot both spend
the last try or the last code of the hour.

A voice PIN (4 to 8 digits) is what a voice page asks for before it says anything about
the message: kept only as a salted hash, refused when trivially guessable (one digit
repeated, a run like 1234), and locked for 15 minutes after 5 wrong tries in a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinicline.accounts.models import User
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.oncall.models import ContactMethod, NotificationRule, VoicePin
from clinicline.outbox.service import enqueue
from clinicline.practices.models import Practice

Kind = ContactMethod.Kind
PHONE_KINDS = (Kind.SMS, Kind.VOICE)
CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=10)
CODES_PER_WINDOW = 3
CODE_WINDOW = dt.timedelta(hours=1)
WRONG_CODES_ALLOWED = 5
MAX_METHODS = 8  # per member: each one is a number clinicline may be asked to text
MAX_DELAY_S = 3600
PURPOSE = "contact-verification"
PIN_DIGITS = range(4, 9)  # 4 to 8
WRONG_PINS_ALLOWED = 5
PIN_LOCK = dt.timedelta(minutes=15)
# Tried in this order when a member has no rules of their own (and listed so on the page).
ORDER = {Kind.IN_APP: 0, Kind.SMS: 1, Kind.VOICE: 2, Kind.EMAIL: 3}


class ContactError(Exception):
    """Refused, with a message for the member."""


class TooManyCodes(ContactError):
    """This hour's codes for the method are spent."""


def normalise(kind: str, address: str) -> str:
    """The address as stored: E.164 for a number, lower-case for an email address."""
    address = address.strip()
    if kind in PHONE_KINDS:
        try:
            number = phonenumbers.parse(address, "US")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ContactError("That is not a phone number we can reach. Enter it with its "
                               "area code, e.g. (617) 555-0123, or +44 20 7946 0000.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == Kind.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            raise ContactError("That is not an email address.") from None
        return address.lower()
    raise ContactError("Choose text message, voice call or email.")


def methods(user: User) -> list[ContactMethod]:
    """All the member's methods, in-app first (made here: every member has it)."""
    ContactMethod.objects.get_or_create(user=user, kind=Kind.IN_APP, address="")
    return sorted(ContactMethod.objects.filter(user=user),
                  key=lambda m: (ORDER.get(Kind(m.kind), 9), m.created_at, m.pk))


def add(user: User, kind: str, address: str) -> ContactMethod:
    address = normalise(kind, address)
    if ContactMethod.objects.filter(user=user).count() >= MAX_METHODS:
        raise ContactError(f"You have {MAX_METHODS} contact methods already: remove one first.")
    try:
        with transaction.atomic():
            return ContactMethod.objects.create(user=user, kind=kind, address=address)
    except IntegrityError:
        raise ContactError("You have that one already.") from None


def remove(method: ContactMethod) -> None:
    if method.kind == Kind.IN_APP:
        raise ContactError("In-app notices are always on; they cannot be removed.")
    method.delete()  # its rules go with it


def code_hash(method: ContactMethod, code: str) -> str:
    """Keyed and bound to the method: a code for one number proves nothing about another."""
    message = f"oncall.contact-code:{method.pk}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_text(kind: str, code: str) -> str:
    """What the member receives: the code and nothing about any patient."""
    if kind == Kind.VOICE:  # read out digit by digit, twice: a call cannot be scrolled back
        spoken = ", ".join(code)
        return (f"Your clinicline verification code is {spoken}. Again: {spoken}. "
                "It expires in 10 minutes.")
    text = f"Your clinicline verification code is {code}. It expires in 10 minutes."
    return f"Your clinicline verification code\n{text}" if kind == Kind.EMAIL else text


def send_code(method: ContactMethod, practice: Practice,
              now: dt.datetime | None = None) -> dt.datetime:
    """Queue a new code to the method (the last one stops working); returns its expiry."""
    if method.kind == Kind.IN_APP:
        raise ContactError("In-app notices need no code.")
    now = now or timezone.now()
    code = new_code()
    rows = ContactMethod.objects.filter(pk=method.pk)
    with transaction.atomic():
        # A window an hour old (or none yet) starts again; then a code is spent from it.
        rows.filter(Q(codes_window_started_at__isnull=True)
                    | Q(codes_window_started_at__lte=now - CODE_WINDOW)).update(
            codes_window_started_at=now, codes_sent=0)
        taken = rows.filter(codes_sent__lt=CODES_PER_WINDOW).update(
            codes_sent=F("codes_sent") + 1, code_hash=code_hash(method, code),
            code_expires_at=now + CODE_LIFETIME, wrong_codes=0)
        if not taken:
            started = rows.values_list("codes_window_started_at", flat=True).get()
            raise TooManyCodes(_too_many_sent(started, practice))
        # The delivery's body is sealed in the outbox (an encrypted field) and never logged.
        enqueue(practice, channel=method.kind, to=method.address, body=code_text(method.kind,
                code), purpose=PURPOSE, idempotency_key=f"contact-code:{uuid.uuid4()}")
    method.refresh_from_db()
    return now + CODE_LIFETIME


def _too_many_sent(window_started: dt.datetime | None, practice: Practice) -> str:
    again = (window_started or timezone.now()) + CODE_WINDOW
    local = timezone.localtime(again, practice.tz)
    return (f"{CODES_PER_WINDOW} codes have been sent to this in the last hour. You can ask "
            f"for another after {local:%I:%M %p}.".replace(" 0", " "))


def verify(method: ContactMethod, code: str, now: dt.datetime | None = None) -> None:
    """Mark the method verified if ``code`` is its current code; else say why not."""
    now = now or timezone.now()
    code = "".join(code.split()).replace("-", "")  # "293 624", "293-624"
    rows = ContactMethod.objects.filter(pk=method.pk)
    current = rows.values("code_hash", "code_expires_at", "wrong_codes").get()
    if not current["code_hash"]:
        raise ContactError("Send yourself a code first.")
    if current["wrong_codes"] >= WRONG_CODES_ALLOWED:
        raise ContactError(f"That code no longer works after {WRONG_CODES_ALLOWED} wrong "
                           "tries. Send a new one.")
    if current["code_expires_at"] is None or current["code_expires_at"] <= now:
        raise ContactError("That code has expired. Send a new one.")
    right = (len(code) == CODE_DIGITS and code.isdigit()
             and hmac.compare_digest(code_hash(method, code), current["code_hash"]))
    live = rows.filter(code_hash=current["code_hash"], wrong_codes__lt=WRONG_CODES_ALLOWED,
                       code_expires_at__gt=now)
    if right and live.update(verified_at=now, code_hash="", code_expires_at=None,
                             wrong_codes=0):
        method.refresh_from_db()
        return
    if not right and live.update(wrong_codes=F("wrong_codes") + 1):
        left = WRONG_CODES_ALLOWED - rows.values_list("wrong_codes", flat=True).get()
        raise ContactError("That code is not right. " + (
            f"{left} tr{'y' if left == 1 else 'ies'} left." if left > 0 else
            "That was the last try: send a new code."))
    raise ContactError("That code no longer works. Send a new one.")  # spent meanwhile


def set_rule(user: User, method: ContactMethod, delay_s: int) -> NotificationRule:
    if method.user_id != user.pk:
        raise ContactError("That is not one of your contact methods.")
    if not 0 <= delay_s <= MAX_DELAY_S:
        raise ContactError(f"The delay is 0 to {MAX_DELAY_S} seconds.")
    rule, _ = NotificationRule.objects.get_or_create(user=user, method=method, delay_s=delay_s)
    return rule


def reachable(user: User) -> list[ContactMethod]:
    """The methods a page may use now: verified ones and in-app; none for a deactivated
    account."""
    if not user.is_active:
        return []
    return [m for m in methods(user) if m.usable]


def plan(user: User) -> list[tuple[int, ContactMethod]]:
    """(seconds after the page first reaches the member, method), earliest first. Rules
    on methods not usable (yet) are skipped; a member whose rules leave nothing usable, or
    who has none, gets every usable method at once."""
    usable = reachable(user)
    ids = {m.pk for m in usable}
    steps = [(rule.delay_s, rule.method) for rule in
             NotificationRule.objects.filter(user=user).select_related("method")
             if rule.method_id in ids]
    return sorted(steps, key=lambda s: (s[0], ORDER.get(Kind(s[1].kind), 9))) or [
        (0, m) for m in usable]


def with_verified_phone(user_ids: Iterable[int]) -> set[int]:
    """Which of these members can be texted or called: a verified SMS or voice number."""
    return set(ContactMethod.objects.filter(
        user_id__in=list(user_ids), kind__in=PHONE_KINDS, verified_at__isnull=False,
    ).values_list("user_id", flat=True))


# --- the voice PIN ----------------------------------------------------------------------------

def pin_problem(digits: str) -> str:
    """Why these digits cannot be a PIN, in words for the member; "" if they can."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in PIN_DIGITS:
        return f"A voice PIN is {PIN_DIGITS[0]} to {PIN_DIGITS[-1]} digits, 0 to 9."
    if len(set(digits)) == 1:
        return "A PIN of one digit repeated is the first thing anyone tries. Choose another."
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    if steps in ({1}, {9}):  # 1234, 7890, 4321: a run along the keypad
        return "A run of digits such as 1234 is easy to guess. Choose another."
    return ""


def set_pin(user: User, digits: str, now: dt.datetime | None = None) -> VoicePin:
    """The member's new PIN (hashed; the old one stops working and any lock ends)."""
    problem = pin_problem(digits)
    if problem:
        raise ContactError(problem)
    pin, _ = VoicePin.objects.update_or_create(user=user, defaults={
        "pin_hash": make_password(digits), "set_at": now or timezone.now(), "wrong_tries": 0,
        "locked_until": None})
    return pin


def voice_pin(user: User) -> VoicePin | None:
    return VoicePin.objects.filter(user=user).first()


def pin_locked(pin: VoicePin, now: dt.datetime | None = None) -> bool:
    return pin.locked_until is not None and pin.locked_until > (now or timezone.now())


def check_pin(user: User, digits: str, now: dt.datetime | None = None,
              practice: Practice | None = None) -> bool:
    """Whether ``digits`` are the member's PIN. While it is locked, nothing is right (and
    nothing is compared); the fifth wrong try in a row locks it, and is audited."""
    now = now or timezone.now()
    pin = voice_pin(user)
    if pin is None or pin_locked(pin, now):
        return False
    rows = VoicePin.objects.filter(pk=pin.pk)
    if check_password(digits, pin.pin_hash):
        rows.update(wrong_tries=0)
        return True
    rows.update(wrong_tries=F("wrong_tries") + 1)
    if rows.filter(wrong_tries__gte=WRONG_PINS_ALLOWED).update(
            wrong_tries=0, locked_until=now + PIN_LOCK):
        record(Action.VOICE_PIN_LOCKED, actor=user, practice=practice, obj=pin,
               outcome=Outcome.DENIED,
               reason=f"{WRONG_PINS_ALLOWED} wrong tries in a row")
    return False
