"""A page by voice: a call that says nothing about the message until the member's voice PIN
is right, then reads the callback number and takes "press 1".

The call's steps come back to the gateway's page webhook with the page's and the member's
ids (``pages.call_step``), which the vendor signs with the rest of the URL; even so, each
step checks that the page is this practice's, that it notified this member, and that the
member may open the message, and trusts nothing else. An answering machine (or a fax)
hears only that a message is waiting: it is not an acknowledgement, and the page goes on
escalating. After the PIN, each step carries a proof bound to the call (an HMAC of the
call's id, the page and the member), so a menu step is worth nothing on another call.

Everything said before the PIN is PHI-free: the practice's name and that a message is
waiting. The callback number is said only after it, and that is audited as a view of the
message.

A live transfer from the IVR (``intake.ivr``) whispers to the provider it dials before the
caller is connected: the PIN, then "press 1"; 1 acknowledges the page ("by transfer") and
the whisper ends, which lets the two be connected; anything else hangs up the provider's
leg, and the caller is told a provider will call back.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from clinicline.accounts.models import Membership, User
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.visibility import can_open
from clinicline.oncall import contacts, pages
from clinicline.oncall.models import ContactMethod, Page, PageEvent
from clinicline.outbox.models import Channel
from clinicline.outbox.voice import CallEvent, Dial, Gather, Hangup, Redirect, Say, Script, Step
from clinicline.practices.models import Practice

ANSWER, PIN, MENU, CONNECTED = "answer", "pin", "menu", "connected"
WHISPER, WHISPER_PIN, WHISPER_ACCEPT = "whisper", "whisper-pin", "whisper-accept"
TRANSFER = "transfer"    # the channel of a live transfer's notification and acknowledgement
PIN_TRIES = 3            # per call; the PIN itself locks after 5 wrong in a row
MENU_TRIES = 2           # a key that is not a choice replays the menu once
PIN_TIMEOUT_S = 10
MENU_TIMEOUT_S = 8
DIAL_TIMEOUT_S = 30
ACK, CONNECT, AGAIN, PASS = "1", "2", "3", "5"
PROOF = "ok"
WAITING = "The message is waiting in clinicline. Goodbye."


@dataclass(frozen=True)
class Paged:
    """The page a call is about and the member it called."""

    page: Page
    member: User


def paged(practice: Practice, step: Step, channels: tuple[str, ...] = (Channel.VOICE,),
          ) -> Paged | None:
    """The page and member the step names, if the page is this practice's, it notified
    this member (by a call), and the member may open its message; else None."""
    try:
        page_id = uuid.UUID(step.get(pages.PAGE_PARAM))
    except ValueError:
        return None
    page = (Page.objects.for_practice(practice).filter(pk=page_id)
            .select_related("practice", "message", "acknowledged_by").first())
    notified = page is not None and PageEvent.objects.filter(
        page=page, kind=PageEvent.Kind.NOTIFIED, channel__in=channels,
        member_id=step.number(pages.MEMBER_PARAM)).exists()
    membership = Membership.objects.filter(
        practice=practice, user_id=step.number(pages.MEMBER_PARAM),
        user__is_active=True).select_related("user").first()
    if page is None or not notified or membership is None or not can_open(
            membership, page.message):
        return None
    return Paged(page, membership.user)


def proof(call_sid: str, found: Paged) -> str:
    """That this call heard the right PIN: bound to the call, the page and the member."""
    message = f"oncall.voice-pin:{call_sid}:{found.page.pk}:{found.member.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def step(name: str, found: Paged, **params: object) -> Step:
    return Step.of(name, **{pages.PAGE_PARAM: found.page.pk,
                            pages.MEMBER_PARAM: found.member.pk}, **params)


def bye(*words: str) -> Script:
    return (*(Say(w) for w in words), Hangup())


# --- before the PIN: nothing about the message -------------------------------------------------

def waiting(practice_name: str) -> Script:
    """What an answering machine hears (and any call we cannot go on with): a message is
    waiting, nothing more."""
    return bye(f"This is {practice_name}'s answering service. An urgent message from "
               f"{practice_name} is waiting. Please sign in to clinicline.")


def answer(practice: Practice, call: CallEvent, at: Step) -> Script:
    """The member's phone answered: a machine hears that a message waits; a person is
    asked for their PIN."""
    found = paged(practice, at)
    if found is None:
        return waiting(practice.name)
    if call.machine:
        pages.event(found.page, PageEvent.Kind.MACHINE, timezone.now(),
                    member=found.member, channel=Channel.VOICE, detail="answering machine")
        return waiting(practice.name)
    if contacts.voice_pin(found.member) is None:
        return bye(f"This is {practice.name}'s answering service with an urgent message. "
                   "You have not set a voice PIN yet. Please sign in to clinicline to see "
                   "the message, and set a PIN on your How to reach me page.")
    return ask_pin(found, tries=1, first=f"This is {practice.name}'s answering service "
                                         "with an urgent message.")


def ask_pin(found: Paged, tries: int, first: str = "") -> Script:
    at = step(PIN, found, attempt=tries)
    words = f"{first} Please enter your voice PIN, then press pound.".strip()
    # No key before the timeout: the same step without digits ("No PIN was entered").
    return (Gather((Say(words),), at, PIN_TIMEOUT_S, num_digits=8, finish_on_key="#"),
            Redirect(at))


def pin_entered(practice: Practice, call: CallEvent, at: Step) -> Script:
    found = paged(practice, at)
    if found is None:
        return waiting(practice.name)
    tries, digits = at.number("attempt", 1), call.digits.strip("#")
    if not digits:
        return bye(f"No PIN was entered. {WAITING}")
    pin = contacts.voice_pin(found.member)
    if pin is None or not contacts.check_pin(found.member, digits, practice=practice):
        if pin is not None and contacts.pin_locked(pin):
            return bye(f"Your voice PIN is locked after too many wrong tries. {WAITING}")
        if tries >= PIN_TRIES:
            return bye(f"That PIN is not right. {WAITING}")
        return (Say("That PIN is not right."), *ask_pin(found, tries + 1))
    return after_pin(found, call, tries=1)


# --- after the PIN ------------------------------------------------------------------------------

def after_pin(found: Paged, call: CallEvent, tries: int) -> Script:
    """The right PIN: the message's urgency and callback number, and the choices. Unless
    someone else owns it already: then that, and nothing of the message."""
    page, member = found.page, found.member
    if page.owned and page.acknowledged_by_id != member.pk:
        return bye("This message has already been acknowledged by someone else. Goodbye.")
    record(Action.VIEW, actor=member, practice=page.practice_id, obj=page.message,
           patient=page.message.patient_id or "", fields=["priority", "callback_number"],
           reason="voice page, after the voice PIN")
    return menu(found, call, tries)


def menu(found: Paged, call: CallEvent, tries: int) -> Script:
    number = callback_number(found.page)
    level = found.page.message.priority
    said = [f"{'An' if level[:1] in 'aeiou' else 'A'} {level} message.",
            f"The callback number is {spoken(number)}." if number else
            "There is no callback number with this message: please open it in clinicline.",
            f"Press {ACK} to acknowledge."]
    if number:
        said.append(f"Press {CONNECT} to acknowledge and be connected to the caller.")
    said += [f"Press {AGAIN} to hear this again.", f"Press {PASS} to pass it to the next "
             "person."]
    at = step(MENU, found, attempt=tries, **{PROOF: proof(call.call_sid, found)})
    return (Gather((Say(" ".join(said)),), at, MENU_TIMEOUT_S, num_digits=1), Redirect(at))


def callback_number(page: Page) -> str:
    return str(page.message.fields.get("callback_number", "") or "")


def spoken(number: str) -> str:
    """Digit by digit, grouped as people say them: "6 1 7, 5 5 5, 0 1 4 2"."""
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+1") and len(digits) == 11:
        groups = [digits[1:4], digits[4:7], digits[7:]]
    else:
        groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(group) for group in groups)


def chosen(practice: Practice, call: CallEvent, at: Step) -> Script:
    found = paged(practice, at)
    if found is None or not hmac.compare_digest(at.get(PROOF), proof(call.call_sid, found)):
        return waiting(practice.name)
    tries, key = at.number("attempt", 1), call.digits
    if key in (ACK, CONNECT):
        return acknowledged(found, connect=key == CONNECT)
    if key == AGAIN:
        return menu(found, call, tries)
    if key == PASS:
        if pages.pass_on(found.page, found.member):
            return bye("Passed on to the next person. Goodbye.")
        return bye(f"This message can no longer be passed on. {WAITING}")
    if tries >= MENU_TRIES:
        return bye(WAITING)
    return (Say("Sorry, that is not one of the choices." if key else
                "We did not hear a choice."), *menu(found, call, tries + 1))


def acknowledged(found: Paged, connect: bool) -> Script:
    ack = pages.acknowledge(found.page, found.member, via=Channel.VOICE)
    if ack.page.acknowledged_by_id != found.member.pk:
        return bye("Someone else acknowledged this message a moment ago. Goodbye.")
    number = callback_number(found.page)
    if connect and number:
        return (Say("Acknowledged. Connecting you now."),
                Dial(number, step(CONNECTED, found), DIAL_TIMEOUT_S))
    return bye("Acknowledged. Thank you. The message is in your clinicline inbox.")


def connected(practice: Practice, call: CallEvent, at: Step) -> Script:
    """The call to the caller ended."""
    return bye("The message is in your clinicline inbox. Goodbye.")


# --- a live transfer's whisper ------------------------------------------------------------------

def transfer_target(practice: Practice) -> tuple[User, str] | None:
    """Who a live transfer tries: the first on call now (primary, then backup) with a
    verified voice number and a voice PIN (without one they could not take the call)."""
    now = pages.on_call_now(practice)
    for user in (*now.primary, *now.backup):
        method = ContactMethod.objects.filter(user=user, kind=ContactMethod.Kind.VOICE,
                                              verified_at__isnull=False).first()
        if user.is_active and method is not None and contacts.voice_pin(user) is not None:
            return user, method.address
    return None


def offer_transfer(page: Page, member: User) -> Step:
    """The page tells the member by a live transfer: recorded like any notification (which
    is what lets the whisper's steps find them), and the whisper's first step."""
    pages.event(page, PageEvent.Kind.NOTIFIED, timezone.now(), member=member,
                channel=TRANSFER, detail="live transfer from the IVR")
    record(Action.PAGE_NOTIFY, practice=page.practice_id, obj=page,
           reason=f"{TRANSFER} to member {member.pk}")
    return step(WHISPER, Paged(page, member))


def whispered(practice: Practice, at: Step) -> Paged | None:
    return paged(practice, at, channels=(TRANSFER,))


def whisper(practice: Practice, call: CallEvent, at: Step) -> Script:
    found = whispered(practice, at)
    if found is None:
        return (Hangup(),)
    ask = step(WHISPER_PIN, found)
    words = (f"This is {practice.name}'s answering service with an urgent caller on the "
             "line. Please enter your voice PIN, then press pound.")
    return (Gather((Say(words),), ask, PIN_TIMEOUT_S, num_digits=8, finish_on_key="#"),
            Redirect(ask))


def whisper_pin(practice: Practice, call: CallEvent, at: Step) -> Script:
    found = whispered(practice, at)
    digits = call.digits.strip("#")
    if found is None or not digits or not contacts.check_pin(found.member, digits,
                                                            practice=practice):
        return bye("That PIN is not right. Goodbye.") if digits else (Hangup(),)
    accept = step(WHISPER_ACCEPT, found, **{PROOF: proof(call.call_sid, found)})
    return (Gather((Say(f"Press {ACK} to be connected to the caller."),), accept,
                   MENU_TIMEOUT_S, num_digits=1), Redirect(accept))


def whisper_accept(practice: Practice, call: CallEvent, at: Step) -> Script:
    """1: the page is theirs, and the whisper ends, so the call is connected."""
    found = whispered(practice, at)
    if found is None or call.digits != ACK or not hmac.compare_digest(
            at.get(PROOF), proof(call.call_sid, found)):
        return (Hangup(),)
    ack = pages.acknowledge(found.page, found.member, via=TRANSFER)
    if ack.page.acknowledged_by_id != found.member.pk:
        return bye("Someone else has acknowledged this message. Goodbye.")
    return (Say("Connecting you now."),)


def transferred(page: Page | None) -> bool:
    """Whether a live transfer connected someone: its whisper acknowledged the page."""
    return page is not None and page.events.filter(kind=PageEvent.Kind.ACKNOWLEDGED,
                                                   channel=TRANSFER).exists()


STEPS: dict[str, Callable[[Practice, CallEvent, Step], Script]] = {
    ANSWER: answer, PIN: pin_entered, MENU: chosen, CONNECTED: connected,
    WHISPER: whisper, WHISPER_PIN: whisper_pin, WHISPER_ACCEPT: whisper_accept}


def continue_page(practice: Practice, call: CallEvent, at: Step) -> Script:
    """The step a page call's request names; an unknown one says only that a message is
    waiting."""
    handler = STEPS.get(at.name)
    return handler(practice, call, at) if handler else waiting(practice.name)
