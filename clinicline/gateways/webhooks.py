"""Inbound Twilio webhooks. The gateway owns the plumbing — signature, practice, once-only,
answer — and ``ROUTES``, one fixed table, names the handler of each kind of event: a short
function that reads Twilio's parameters into domain values, calls the domain by name
(``intake.ivr.answer_call``, ``intake.texts.receive_text``, ``outbox.service``) and
renders its answer.

Every request: the practice is found by its number, the X-Twilio-Signature is checked
against that practice's auth token (a forged or missing one is a 403 and an audit event),
the provider's id makes it idempotent (a retry gets the first answer, with no second
effect), unknown parameters are kept, and nothing is a 500. Handlers answer at once and
leave heavy work (fetching audio, transcribing) to the worker.

The database unreachable (``clinicline.outage``) is an expected state: whatever a request
had begun rolls back with its transaction, and it answers 503 with ``Retry-After`` so the
carrier retries, except a new call, which answers from the local fallback file (the
emergency line and the fallback phone). The fallback URL answers that way always.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, connection, transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from clinicline import outage, rows
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.gateways import calls, texts, twiml
from clinicline.gateways import status as delivery_status  # ``status`` is the view below
from clinicline.gateways.inbound import E164, SID, Inbound, Refusal, sid, state
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.practices.models import GatewayAccount

log = logging.getLogger("clinicline.gateways")
SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"
FORM = "application/x-www-form-urlencoded"
# A handler returns what to answer with (TwiML), or "" for nothing to say (then a text
# gets the empty messaging document, and callbacks an empty body).
Handler = Callable[[Inbound], str]


@dataclass(frozen=True)
class Route:
    """What a kind of event does. ``fallback`` answers when ``handler`` raises, with no
    effects: a caller must still hear the emergency line, and be able to leave a
    voicemail, when a domain function has a bug. ``keyed`` declares a handler whose effects
    are unique on the event's own id (a text's row, by its MessageSid): it runs first, and
    the ledger row is written after it with its answer, one INSERT instead of an INSERT
    and an UPDATE; a concurrent duplicate collides on the handler's key instead."""

    handler: Handler
    fallback: Handler | None = None
    keyed: bool = False


ROUTES: dict[str, Route] = {
    Kind.VOICE: Route(calls.voice, fallback=calls.fallback),
    Kind.GATHER: Route(calls.gather, fallback=calls.fallback),
    Kind.PAGE: Route(calls.page, fallback=calls.page_fallback),
    Kind.OUTREACH: Route(calls.outreach, fallback=calls.outreach_fallback),
    Kind.RECORDING: Route(calls.recording),
    Kind.SMS: Route(texts.sms, fallback=texts.fallback, keyed=True),
    Kind.STATUS: Route(delivery_status.callback),
}
NO_REPLY: dict[str, str] = {Kind.SMS: twiml.NO_REPLY}


class Form(dict[str, list[str]]):
    """Every value of each posted parameter, in order: a parameter sent twice is signed with
    both values. ``getall`` is the method Twilio's validator tries first (given a QueryDict,
    it raises and catches an exception per parameter, which cost more than the HMAC)."""

    getall = dict.__getitem__

    def params(self) -> dict[str, str]:
        """One value per parameter, the last, as ``QueryDict.dict()`` gives."""
        return {name: values[-1] for name, values in self.items()}


def read_form(request: HttpRequest) -> Form:
    """The body, read once: Twilio's URL-encoded form parsed here (in UTF-8, as Twilio sends
    it, with the limits Django's own parser applies), anything else left to Django."""
    form = Form()
    try:
        if request.content_type == FORM:
            body = request.body.decode("utf-8", "replace")
            for name, value in parse_qsl(body, keep_blank_values=True,
                                         max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS):
                form.setdefault(name, []).append(value)
        else:
            form.update(request.POST.lists())
    except (MultiPartParserError, UnreadablePostError, SuspiciousOperation, ValueError):
        # A broken multipart body, too many fields, too large: refused unparsed.
        raise Refusal(400, "The body could not be read as form parameters.") from None
    if not form:  # JSON, XML, nothing: Twilio posts form parameters
        raise Refusal(400, f"Expected form parameters ({FORM}).")
    return form


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the public address it was configured with, not whatever
    host and scheme reached us through the proxy."""
    return settings.SITE_URL.rstrip("/") + request.get_full_path()


def account_for(kind: str, params: dict[str, str]) -> GatewayAccount:
    # Calls and texts come *to* the practice's number; status callbacks of what we sent,
    # and the calls we make about pages, come *from* it, so each kind looks at its likelier
    # side first.
    names = ("From", "To") if kind in (Kind.STATUS, Kind.PAGE, Kind.OUTREACH) else ("To", "From")
    given = [params[n] for n in names if params.get(n)]
    if not given:
        return account_of_call(kind, params)
    # Only an E.164 number can be a practice's ("client:…", "sip:…" are callers); nothing
    # else is sent to the database (PostgreSQL refuses a NUL in a query, for one).
    numbers = [n for n in given if E164.fullmatch(n)]
    accounts = {a.phone_number: a for a in accounts_by_number(numbers)}
    for number in numbers:
        if number in accounts:
            return accounts[number]
    raise Refusal(404, "That number is not a clinicline practice number.")


def accounts_by_number(numbers: list[str]) -> list[GatewayAccount]:
    """Every webhook starts here, so this is plain SQL read back as the ORM would: through
    the ORM (or a raw queryset), building the query cost more than a third of answering a
    text (as with audit appends)."""
    if not numbers:
        return []
    sql, names, columns = _account_statement(connection.vendor, len(numbers))
    with connection.cursor() as cursor:
        cursor.execute(sql, numbers)
        found = cursor.fetchall()
    return [GatewayAccount.from_db(connection.alias, names, [
        _converted(value, *column) for value, column in zip(row, columns, strict=True)])
        for row in found]


def _converted(value: Any, col: Any, converters: list[Any]) -> Any:
    for convert in converters:
        value = convert(value, col, connection)
    return value


@functools.cache
def _account_statement(vendor: str,
                       count: int) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    quote = connection.ops.quote_name
    meta = GatewayAccount._meta
    fields = list(meta.concrete_fields)
    selected = ", ".join(quote(f.column) for f in fields)
    sql = (f"SELECT {selected} FROM {quote(meta.db_table)} "  # noqa: S608 (fixed names)
           f"WHERE {quote('phone_number')} IN ({', '.join(['%s'] * count)})")
    columns: list[tuple[Any, list[Any]]] = []
    for field in fields:
        col = field.get_col(meta.db_table)
        # What the SQL compiler applies to a selected column: the backend's, then the field's.
        columns.append((col, [*connection.ops.get_db_converters(col),
                              *col.get_db_converters(connection)]))
    return sql, [f.attname for f in fields], columns


def account_of_call(kind: str, params: dict[str, str]) -> GatewayAccount:
    """A recording's status callback names no number, only its call, which came in
    through the voice webhook: that row knows the practice."""
    call_sid = params.get("CallSid", "")
    if kind != Kind.RECORDING or not SID.fullmatch(call_sid):
        raise Refusal(400, "Missing To.")
    practice_id = (InboundWebhook.objects.filter(kind=Kind.VOICE, key=call_sid)
                   .values_list("practice_id", flat=True).first())
    account = (GatewayAccount.objects.filter(practice_id=practice_id).first()
               if practice_id else None)
    if account is None:
        raise Refusal(404, "That call did not come through a clinicline practice number.")
    return account


def check_signature(request: HttpRequest, form: Form, account: GatewayAccount) -> None:
    signature = request.META.get(SIGNATURE_HEADER, "")
    token = account.auth_token
    # An empty token would let anyone sign: an account without one verifies nothing.
    if signature and token and signature_matches(token, signed_url(request), form, signature):
        return
    reason = ("missing signature" if not signature else
              "no auth token configured" if not token else "signature does not match")
    record(Action.WEBHOOK_FORGED, request=request, practice=account.practice_id,
           reason=reason, outcome=Outcome.DENIED)
    raise Refusal(403, "The request's signature is missing or does not match.")


def signature_matches(token: str, url: str, form: Form, signature: str) -> bool:
    """The URL as configured is what Twilio signs, so its one HMAC decides a genuine
    request; only a mismatch tries the validator's variants (the URL with and without its
    default port, which Twilio has signed both ways)."""
    validator = RequestValidator(token)
    return (hmac.compare_digest(validator.compute_signature(url, form), signature)
            or validator.validate(url, form, signature))


def event_key(kind: str, params: dict[str, str], request: HttpRequest) -> str:
    """The provider's id for this event: the same event retried has the same key."""
    if kind == Kind.VOICE:
        return sid(params, "CallSid")
    if kind in (Kind.GATHER, Kind.PAGE, Kind.OUTREACH):
        # A call may gather several times: the step is in the URL, the answer in Digits.
        # Hashed, as both are the caller's to make long.
        step = f"{request.get_full_path()}|{params.get('Digits', '')}".encode()
        return f"{sid(params, 'CallSid')}|{hashlib.sha256(step).hexdigest()[:40]}"
    if kind == Kind.RECORDING:
        # By status too: an "absent" or "failed" callback must not hide a later "completed".
        status = state(params, "RecordingStatus", "completed")
        return f"{sid(params, 'RecordingSid')}|{status}"
    if kind == Kind.SMS:
        return sid(params, "MessageSid")
    if params.get("MessageSid"):
        return f"{sid(params, 'MessageSid')}|{state(params, 'MessageStatus')}"
    return f"{sid(params, 'CallSid')}|{state(params, 'CallStatus')}"


def answer(kind: str, request: HttpRequest) -> HttpResponse:
    form = read_form(request)
    params = form.params()
    account = account_for(kind, params)
    check_signature(request, form, account)
    key = event_key(kind, params, request)
    webhook = once(kind, key, account, params, request.get_full_path())
    return HttpResponse(webhook.response or NO_REPLY.get(kind, ""), content_type="text/xml")


def once(kind: str, key: str, account: GatewayAccount, params: dict[str, str],
         path: str) -> InboundWebhook:
    """The webhook's row with its answer: made now with the handler's effects, or the one
    an earlier delivery of the same event made."""
    route = ROUTES[kind]
    try:
        # The row and the handler's effects commit together. A concurrent duplicate's
        # INSERT waits on the unique key, fails once this commits, and reads this answer.
        with transaction.atomic():
            webhook = InboundWebhook(practice_id=account.practice_id, kind=kind, key=key,
                                     params=params)
            inbound = Inbound(account, kind, params, webhook, path)
            if route.keyed:
                webhook.response = route.handler(inbound)
                webhook.error = webhook.error[:200]
                rows.insert(webhook)
                return webhook
            webhook.save(force_insert=True)
            webhook.response = route.handler(inbound)
            if webhook.response or webhook.processed_at or webhook.error or webhook.retry_at:
                InboundWebhook.objects.filter(pk=webhook.pk).update(
                    response=webhook.response, processed_at=webhook.processed_at,
                    error=webhook.error[:200], retry_at=webhook.retry_at)
        return webhook
    except IntegrityError as exc:
        earlier = InboundWebhook.objects.filter(kind=kind, key=key).first()
        if earlier is not None:
            return same_practice(earlier, account)
        failure = type(exc).__name__  # not our key: the handler's own conflict
    except outage.UNREACHABLE:
        raise  # not the handler's bug: nothing was stored, and the carrier is told to retry
    except Exception as exc:  # noqa: BLE001 (any bug in a handler)
        failure = type(exc).__name__
    # Logged without the message (it may quote PHI); the params are kept with the error so
    # the event is not lost and can be handled again once the bug is fixed.
    log.error("%s webhook handler failed with %s; answered with the fallback", kind, failure)
    return keep_failed(kind, key, account, params, path, f"handler failed: {failure}")


def keep_failed(kind: str, key: str, account: GatewayAccount, params: dict[str, str],
                path: str, error: str) -> InboundWebhook:
    webhook = InboundWebhook(practice_id=account.practice_id, kind=kind, key=key,
                             params=params, error=error[:200])
    fallback = ROUTES[kind].fallback
    if fallback is not None:
        webhook.response = fallback(Inbound(account, kind, params, webhook, path))
    try:
        with transaction.atomic():
            webhook.save(force_insert=True)
    except IntegrityError:  # a concurrent duplicate kept it first
        return same_practice(InboundWebhook.objects.get(kind=kind, key=key), account)
    return webhook


def same_practice(earlier: InboundWebhook, account: GatewayAccount) -> InboundWebhook:
    """Twilio's ids are unique across accounts, so an id already seen under another
    practice is not a retry: that practice's answer is not this request's to read."""
    if earlier.practice_id != account.practice_id:
        raise Refusal(409, "That id belongs to another practice's event.")
    return earlier


def webhook_view(kind: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"], "Webhooks are POSTed.",
                                          content_type="text/plain")
        try:
            return answer(kind, request)
        except Refusal as refusal:
            return HttpResponse(str(refusal), status=refusal.status, content_type="text/plain")
        except outage.UNREACHABLE as exc:
            outage.reported(exc, f"the {kind} webhook")
            if kind == Kind.VOICE:
                return unavailable_call(request)
            return outage.plain()

    view.__name__ = view.__qualname__ = f"twilio_{kind}"
    # Twilio cannot hold a CSRF token; the signature is what proves where a request is from.
    return csrf_exempt(view)


def unavailable_call(request: HttpRequest) -> HttpResponse:
    # The signature cannot be checked here: the auth token is in the database. The answer
    # is given unverified, which is safe: it holds no PHI (a practice's name and public
    # numbers) and has no effect (nothing is stored, nothing is sent).
    params = request.POST if request.method == "POST" else request.GET
    text = calls.unavailable(params.get("To", ""), request.get_full_path(),
                             params.get("DialCallStatus", ""))
    return HttpResponse(text, content_type="text/xml")


@csrf_exempt
def voice_fallback(request: HttpRequest) -> HttpResponse:
    """Twilio's fallback URL for a number's voice webhook, requested when the primary
    fails or times out: the database-free answer, without touching the database."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"], "Twilio GETs or POSTs this.",
                                      content_type="text/plain")
    return unavailable_call(request)


voice = webhook_view(Kind.VOICE)
gather = webhook_view(Kind.GATHER)
page = webhook_view(Kind.PAGE)
outreach = webhook_view(Kind.OUTREACH)
recording = webhook_view(Kind.RECORDING)
sms = webhook_view(Kind.SMS)
status = webhook_view(Kind.STATUS)
