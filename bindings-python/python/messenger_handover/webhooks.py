"""Webhooks: check a delivery is Meta's, answer the subscription handshake,
and read every event of every entry, typed.

All three run in the Rust core; this module turns its output into frozen
dataclasses and adds :class:`WebhookHandler`, usable from any framework::

    handler = WebhookHandler(app_secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    result = handler.handle(method, query_string, headers, raw_body)
    # -> WebhookResponse(status=200, body="EVENT_RECEIVED", events=[...])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qsl

from . import _native
from ._types import sendable
from .errors import WebhookError

__all__ = [
    "verify_signature",
    "sign",
    "verify_subscription",
    "parse_events",
    "Event",
    "PassThreadControl",
    "TakeThreadControl",
    "RequestThreadControl",
    "AppRoles",
    "Message",
    "Standby",
    "Other",
    "WebhookError",
    "SignatureError",
    "SubscriptionError",
    "MalformedBodyError",
    "WebhookHandler",
    "WebhookResponse",
    "SIGNATURE_HEADER",
    "AnyEvent",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"


class SignatureError(WebhookError):
    """The ``X-Hub-Signature-256`` header is missing, malformed or wrong."""


class SubscriptionError(WebhookError):
    """The ``hub.*`` handshake was not a valid subscribe with our verify token."""


class MalformedBodyError(WebhookError):
    """The body is not a webhook batch."""


@dataclass(frozen=True)
class Event:
    """What every event has: the Page, the user (when about a thread), the time."""

    page_id: str
    psid: Optional[str]
    timestamp: Optional[datetime]


@dataclass(frozen=True)
class PassThreadControl(Event):
    new_owner_app_id: str
    previous_owner_app_id: Optional[str]
    metadata: Optional[str]


@dataclass(frozen=True)
class TakeThreadControl(Event):
    previous_owner_app_id: Optional[str]
    metadata: Optional[str]


@dataclass(frozen=True)
class RequestThreadControl(Event):
    requested_owner_app_id: str
    metadata: Optional[str]


@dataclass(frozen=True)
class AppRoles(Event):
    roles: Dict[str, List[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Message(Event):
    """A user's message, or the echo of one the Page sent (``is_echo``; ``app_id`` is the
    sending app: 263902037430900 for a human in the Page Inbox). ``attachments`` raw."""

    mid: Optional[str] = None
    text: Optional[str] = None
    attachments: Optional[List[Any]] = None
    is_echo: bool = False
    app_id: Optional[str] = None


@dataclass(frozen=True)
class Other(Event):
    """Any other event (a postback, a read receipt...), kept whole in ``event``."""

    event: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Standby(Event):
    """A copy of an event for an app that does not own the thread; ``event`` is that
    event, typed as in ``messaging`` (a :class:`Message`, or :class:`Other`...)."""

    event: Optional["AnyEvent"] = None


AnyEvent = Union[PassThreadControl, TakeThreadControl, RequestThreadControl, AppRoles, Message, Standby, Other]

_CLASSES: Dict[str, Any] = {
    "pass_thread_control": PassThreadControl,
    "take_thread_control": TakeThreadControl,
    "request_thread_control": RequestThreadControl,
    "app_roles": AppRoles,
    "message": Message,
    "standby": Standby,
    "other": Other,
}


def _bytes(raw_body: Union[bytes, bytearray, memoryview, str]) -> bytes:
    if isinstance(raw_body, str):
        return raw_body.encode("utf-8")
    if isinstance(raw_body, (bytes, bytearray, memoryview)):
        return bytes(raw_body)
    raise TypeError(f"raw_body must be bytes, not {type(raw_body).__name__}")


def verify_signature(app_secret: str, raw_body: Union[bytes, bytearray, memoryview, str], header: Optional[str]) -> bool:
    """True when ``header`` (``X-Hub-Signature-256``) is ``sha256=<hex>`` of the raw
    body keyed by the app secret. Constant-time; anything missing or malformed is False.
    An empty ``app_secret`` raises ValueError: anyone could sign with it."""
    sendable(app_secret, "app_secret")
    return _native.verify_signature(app_secret, _bytes(raw_body), header)


def sign(app_secret: str, raw_body: Union[bytes, bytearray, memoryview, str]) -> str:
    """The ``X-Hub-Signature-256`` value Meta would send for this body."""
    sendable(app_secret, "app_secret")
    return _native.sign(app_secret, _bytes(raw_body))


def verify_subscription(params: Union[Mapping[str, str], Iterable[Tuple[str, str]], str], verify_token: str) -> str:
    """Answers the GET handshake: returns ``hub.challenge`` to echo back, or raises
    :class:`SubscriptionError`. ``params``: a mapping, pairs, or the raw query string.
    An empty ``verify_token`` raises ValueError."""
    if isinstance(params, str):
        pairs = parse_qsl(params, keep_blank_values=True)
    elif isinstance(params, Mapping):
        pairs = [(str(k), str(v)) for k, v in params.items()]
    else:
        pairs = [(str(k), str(v)) for k, v in params]
    sendable(verify_token, "verify_token")
    try:
        return _native.verify_subscription(pairs, verify_token)
    except ValueError as e:
        if getattr(e, "argument", None) is not None:
            raise  # a bad verify_token, not a bad handshake
        raise SubscriptionError(str(e)) from None


def parse_events(raw_body: Union[bytes, bytearray, memoryview, str]) -> List[AnyEvent]:
    """Every event of every entry of a batch, in order, typed. Unknown events are
    :class:`Other`, never dropped; a body that is not a batch raises :class:`MalformedBodyError`."""
    try:
        raw = _native.parse_events(_bytes(raw_body))
    except ValueError as e:
        raise MalformedBodyError(str(e)) from None
    return [_event(item) for item in raw]


def _event(item: Dict[str, Any]) -> AnyEvent:
    kind = item.pop("type")
    if kind == "standby":
        item["event"] = _event(item["event"])
    return _CLASSES[kind](**item)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class WebhookResponse:
    """What to answer: ``status`` and a text ``body``; ``events`` for a valid POST."""

    status: int
    body: str
    events: List[AnyEvent] = field(default_factory=list)


class WebhookHandler:
    """Verification, handshake and parsing for one app, usable from any framework.

    ``handle(method, query, headers, raw_body)`` returns a :class:`WebhookResponse`:
    GET answers the handshake (200 with the challenge, or 403), POST checks the
    signature (403 when wrong) and parses the events (400 when malformed).

    An empty ``app_secret`` or ``verify_token`` raises ValueError here (an unset
    environment variable must not accept forged events). The handler holds
    secrets: it has no ``__dict__`` and refuses to be pickled or copied.
    """

    __slots__ = ("_app_secret", "_verify_token")

    def __init__(self, app_secret: str, verify_token: Optional[str] = None) -> None:
        sendable(app_secret, "app_secret")
        sendable(verify_token, "verify_token")
        _native.check_webhook_secret("app_secret", app_secret)
        if verify_token is not None:
            _native.check_webhook_secret("verify_token", verify_token)
        self._app_secret = app_secret
        self._verify_token = verify_token

    def __repr__(self) -> str:
        return "WebhookHandler(app_secret='<redacted>')"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("WebhookHandler holds the app secret and is not picklable")

    def subscribe(self, params: Union[Mapping[str, str], Iterable[Tuple[str, str]], str]) -> str:
        """The challenge for a GET handshake, or :class:`SubscriptionError`."""
        if self._verify_token is None:
            raise SubscriptionError("no verify_token configured for the subscription handshake")
        return verify_subscription(params, self._verify_token)

    def events(self, raw_body: Union[bytes, bytearray, memoryview, str], signature: Optional[str]) -> List[AnyEvent]:
        """The events of a POST after checking its signature (:class:`SignatureError` if wrong)."""
        body = _bytes(raw_body)
        if not verify_signature(self._app_secret, body, signature):
            raise SignatureError(f"{SIGNATURE_HEADER} is missing or does not match the body")
        return parse_events(body)

    def handle(
        self,
        method: str,
        query: Union[Mapping[str, str], Iterable[Tuple[str, str]], str, None],
        headers: Mapping[str, str],
        raw_body: Union[bytes, bytearray, memoryview, str] = b"",
    ) -> WebhookResponse:
        if method.upper() == "GET":
            try:
                return WebhookResponse(200, self.subscribe(query or ""))
            except SubscriptionError as e:
                return WebhookResponse(403, str(e))
        if method.upper() != "POST":
            return WebhookResponse(405, "method not allowed")
        signature = _header(headers, SIGNATURE_HEADER)
        try:
            events = self.events(raw_body, signature)
        except SignatureError as e:
            return WebhookResponse(403, str(e))
        except MalformedBodyError as e:
            return WebhookResponse(400, str(e))
        return WebhookResponse(200, "EVENT_RECEIVED", events)


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    for k, v in headers.items():
        if k.lower() == lowered:
            return v
    return None
