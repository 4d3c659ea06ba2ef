"""messenger_handover: the Messenger Platform's thread-control API (Handover
Protocol, Conversation Routing) and the Page conversations edge, from a native
Rust core.

>>> from messenger_handover import Client
>>> with Client("PAGE_ACCESS_TOKEN") as client:          # doctest: +SKIP
...     owner = client.thread_owner("1234567890")
...     client.pass_thread_control_to_page_inbox("1234567890", metadata="needs a human")

``AsyncClient`` has the same methods as awaitables. Offline tests:
``messenger_handover.testing.Emulator``.
"""

from __future__ import annotations

from . import errors
from ._client import (
    PAGE_INBOX_APP_ID,
    AsyncClient,
    AsyncConversationPager,
    Client,
    ConversationPager,
)
from ._native import App, Conversation, Page, Participant, ThreadOwner
from ._native import __version__ as __version__
from ._types import INSTAGRAM_INBOX_APP_ID, MAX_RETRIES_LIMIT, Folder, Platform
from .errors import (
    AuthError,
    BlockedError,
    GraphApiError,
    HandoverError,
    InvalidParameterError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    ThreadControlError,
    TimeoutError,
    TransportError,
    WebhookError,
)

__all__ = [
    "AsyncClient",
    "Client",
    "AsyncConversationPager",
    "ConversationPager",
    "ThreadOwner",
    "App",
    "Conversation",
    "Participant",
    "Page",
    "Folder",
    "Platform",
    "PAGE_INBOX_APP_ID",
    "INSTAGRAM_INBOX_APP_ID",
    "MAX_RETRIES_LIMIT",
    "WebhookError",
    "errors",
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
]
