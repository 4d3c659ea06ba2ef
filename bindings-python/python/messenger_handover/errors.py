"""Exceptions raised by messenger_handover.

Every failure of a call is a :class:`HandoverError`. Errors the Graph API
returned are :class:`GraphApiError` subclasses, one per ``kind``; wire
failures are :class:`TransportError` (timeouts :class:`TimeoutError`, which
is also the builtin ``TimeoutError``); answers that are not the expected JSON
are :class:`ProtocolError`. Bad arguments raise the builtin ``ValueError`` or
``TypeError`` before anything is sent.

The classes are raised from Rust by ``kind``; they pickle with every
attribute, and never hold the access token.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Optional

__all__ = [
    "HandoverError",
    "GraphApiError",
    "InvalidParameterError",
    "AuthError",
    "PermissionDeniedError",
    "ThreadControlError",
    "RateLimitError",
    "BlockedError",
    "ServerError",
    "TransportError",
    "TimeoutError",
    "ProtocolError",
    "WebhookError",
]


class HandoverError(Exception):
    """The base of every error this library raises for a failed call.

    Attributes (``None`` where they do not apply):
        kind: the cross-language failure class, e.g. ``"thread_control"``.
        message: what went wrong (the Graph API's own message for Graph errors).
        code, subcode, type, fbtrace_id, is_transient: the Graph error fields.
        http_status: the HTTP status of the answer, if there was one.
        user_title, user_message: the Graph API's text meant for end users.
        retry_after: seconds to wait before trying again (rate limits).
        usage: the usage headers of the throttled answer, as a dict.
    """

    default_kind = "handover"

    kind: str
    message: str
    code: Optional[int]
    subcode: Optional[int]
    type: Optional[str]
    fbtrace_id: Optional[str]
    http_status: Optional[int]
    is_transient: bool
    user_title: Optional[str]
    user_message: Optional[str]
    retry_after: Optional[float]
    usage: Optional[Dict[str, Any]]

    def __init__(
        self,
        message: str = "",
        *,
        kind: Optional[str] = None,
        code: Optional[int] = None,
        subcode: Optional[int] = None,
        type: Optional[str] = None,
        fbtrace_id: Optional[str] = None,
        http_status: Optional[int] = None,
        is_transient: bool = False,
        user_title: Optional[str] = None,
        user_message: Optional[str] = None,
        graph_message: Optional[str] = None,
        retry_after: Optional[float] = None,
        usage: Optional[Dict[str, Any]] = None,
        connected: Optional[bool] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind or self.default_kind
        self.message = graph_message if graph_message is not None else message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_message = user_message
        self.retry_after = retry_after
        self.usage = usage
        self.connected = connected

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.message


class GraphApiError(HandoverError):
    """An error the Graph API returned (``{"error": {...}}``)."""

    default_kind = "graph"


class InvalidParameterError(GraphApiError):
    """Code 100 and any other 400 not classified below."""

    default_kind = "invalid_parameter"


class AuthError(GraphApiError):
    """The token is invalid or expired (codes 102, 190)."""

    default_kind = "auth"


class PermissionDeniedError(GraphApiError):
    """The app lacks a permission or role (codes 3, 10, 200-299, 551)."""

    default_kind = "permission"


class ThreadControlError(GraphApiError):
    """The thread-control call is not allowed now (e.g. this app does not own the thread)."""

    default_kind = "thread_control"


class RateLimitError(GraphApiError):
    """Throttled (codes 4, 17, 32, 341, 613, 80001-80014). See ``retry_after`` and ``usage``."""

    default_kind = "rate_limit"


class BlockedError(GraphApiError):
    """The action was blocked as spam or abuse (code 368)."""

    default_kind = "blocked"


class ServerError(GraphApiError):
    """The Graph API failed (codes 1, 2, 1200, transient errors, HTTP 5xx)."""

    default_kind = "server"


class TransportError(HandoverError):
    """The connection failed, was reset or timed out."""

    default_kind = "transport"


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001 - the name is the point
    """No answer within the client's timeout. Also a builtin ``TimeoutError``."""

    default_kind = "transport"


class ProtocolError(HandoverError):
    """The answer was not the JSON the endpoint promises (an HTML 502 page, a truncated body)."""

    default_kind = "protocol"


class WebhookError(ValueError):
    """A webhook request that cannot be accepted (bad handshake, malformed body)."""
