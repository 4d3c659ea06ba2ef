"""Test helpers: the Graph API emulator in-process, and the scripted server
the conformance vectors run against.

>>> from messenger_handover.testing import Emulator
>>> with Emulator(conversations=500) as emu:              # doctest: +SKIP
...     client = emu.client()                          # a Client for the primary app
...     client.pass_thread_control_to_page_inbox("1234567890")
...     assert emu.state()["threads"]["1234567890"]["owner_role"] == "page_inbox"

With pytest, the ``emulator`` fixture (installed with the package) gives a
fresh, started ``Emulator`` per test.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Dict, List, Mapping, Optional, Type

from . import _native
from ._client import AsyncClient, Client

__all__ = ["AppCredentials", "Emulator", "ScriptedServer", "APP_ROLES"]

#: The apps with a role on the emulated Page (the Instagram Inbox serves Instagram threads).
APP_ROLES = ("primary", "secondary", "page_inbox", "instagram_inbox")

_GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"


def _shown(value: object) -> str:
    """A refused value as an error shows it: only when it looks like a name
    (a token passed in the wrong place must not come back in the message)."""
    if isinstance(value, str) and len(value) <= 32 and value.isidentifier():
        return repr(value)
    return f"a {type(value).__name__} (not shown)"


class AppCredentials:
    """One emulated app: ``app_id``, its Page ``token`` and app ``secret``.
    The repr shows the app id only."""

    __slots__ = ("role", "app_id", "token", "secret")

    role: str
    app_id: str
    token: str
    secret: str

    def __init__(self, role: str, app_id: str, token: str, secret: str) -> None:
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "app_id", app_id)
        object.__setattr__(self, "token", token)
        object.__setattr__(self, "secret", secret)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AppCredentials is immutable")

    def __repr__(self) -> str:
        return f"AppCredentials(role={self.role!r}, app_id={self.app_id!r}, token='<redacted>', secret='<redacted>')"

    def __reduce__(self) -> Any:
        raise TypeError("AppCredentials holds secrets and is not picklable")


class Emulator:
    """A stateful local Graph API on a free 127.0.0.1 port, started at once.

    ``Emulator(conversations=120, mode="handover" | "routing", *, port=0,
    rate_limit=None, log_requests=True, default_app="primary",
    feature_status=None, conversations_per_second=0, log_capacity=10000,
    header_read_timeout_ms=10000)``. ``default_app=None`` runs Conversation
    Routing without a default app (take answers #27). Use as a context manager,
    or call :meth:`close`. Every app gets its own token: ``emu.primary``,
    ``emu.secondary``, ``emu.page_inbox``, ``emu.instagram_inbox``. Every
    all-digit PSID is a user of the Page except one that starts with 0, which
    answers Graph's "No matching user found" (#100).
    """

    def __init__(
        self,
        conversations: int = 120,
        mode: str = "handover",
        *,
        port: int = 0,
        rate_limit: Optional[Mapping[str, Any]] = None,
        log_requests: bool = True,
        default_app: Optional[str] = "primary",
        feature_status: Optional[Mapping[str, bool]] = None,
        conversations_per_second: int = 0,
        log_capacity: int = 10_000,
        header_read_timeout_ms: int = 10_000,
    ) -> None:
        if mode not in ("handover", "routing"):
            raise ValueError(f"invalid argument `mode`: {_shown(mode)} is not 'handover' or 'routing'")
        config: Dict[str, Any] = {
            "port": port,
            "conversations": conversations,
            "mode": mode,
            "log_requests": log_requests,
            "default_app": default_app,
            "conversations_per_second": conversations_per_second,
            "log_capacity": log_capacity,
            "header_read_timeout_ms": header_read_timeout_ms,
        }
        if default_app is not None and default_app not in APP_ROLES:
            raise ValueError(f"invalid argument `default_app`: not one of {', '.join(APP_ROLES)}")
        if rate_limit is not None:
            config["rate_limit"] = dict(rate_limit)
        if feature_status is not None:
            config["feature_status"] = dict(feature_status)
        self._native = _native.Emulator(config)
        self.mode = mode
        apps = self._native.apps()
        self._apps = {role: AppCredentials(role, **apps[role]) for role in APP_ROLES}

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> "Emulator":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stops the server (idempotent)."""
        self._native.shutdown()

    @property
    def running(self) -> bool:
        return self._native.running

    def __repr__(self) -> str:
        if not self.running:
            return "Emulator(stopped)"
        return f"Emulator(url={self.url!r}, page_id={self.page_id!r}, mode={self.mode!r})"

    # -- identity --------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: pass it as a client's ``base_url``."""
        return self._native.url

    @property
    def port(self) -> int:
        return self._native.port

    @property
    def page_id(self) -> str:
        return self._native.page_id

    @property
    def primary(self) -> AppCredentials:
        """The bot app (primary receiver, Conversation Routing's default app)."""
        return self._apps["primary"]

    @property
    def secondary(self) -> AppCredentials:
        return self._apps["secondary"]

    @property
    def page_inbox(self) -> AppCredentials:
        """The Page Inbox app (263902037430900)."""
        return self._apps["page_inbox"]

    @property
    def instagram_inbox(self) -> AppCredentials:
        """The Instagram Inbox app (1217981644879628)."""
        return self._apps["instagram_inbox"]

    def app(self, role: str) -> AppCredentials:
        try:
            return self._apps[role]
        except KeyError:
            raise ValueError(f"invalid argument `app`: {_shown(role)} is not one of {', '.join(APP_ROLES)}") from None

    # -- clients ---------------------------------------------------------
    def _client_kwargs(self, app: str, kw: Dict[str, Any]) -> Dict[str, Any]:
        creds = self.app(app)
        out: Dict[str, Any] = {"page_id": self.page_id, "base_url": self.url}
        out.update(kw)
        out["access_token"] = creds.token
        return out

    def client(self, app: str = "primary", **kw: Any) -> Client:
        """A blocking :class:`Client` for one of the emulated apps; ``kw`` as for Client."""
        kwargs = self._client_kwargs(app, kw)
        return Client(kwargs.pop("access_token"), **kwargs)

    def async_client(self, app: str = "primary", **kw: Any) -> AsyncClient:
        """An :class:`AsyncClient` for one of the emulated apps; ``kw`` as for AsyncClient."""
        kwargs = self._client_kwargs(app, kw)
        return AsyncClient(kwargs.pop("access_token"), **kwargs)

    # -- admin -----------------------------------------------------------
    def info(self) -> Dict[str, Any]:
        info: Dict[str, Any] = self._native.info()
        return info

    def request_log(self) -> List[Dict[str, Any]]:
        """Every Graph request seen since the start or the last clear (tokens never stored)."""
        log: List[Dict[str, Any]] = self._native.request_log()
        return log

    def clear_request_log(self) -> None:
        self._native.clear_request_log()

    def inject_fault(self, fault: Mapping[str, Any]) -> None:
        """Queues a fault, e.g. ``{"match": {"method": "GET", "path_contains": "thread_owner"},
        "count": 1, "action": {"type": "status", "status": 503}}``. Action types:
        status, graph_error, delay, reset, reset_mid_body, malformed, and for
        operations inside a batch request null_item (``{"type": "null_item",
        "applied": True}`` runs the operation, then answers ``null``). ``match``
        also takes ``in_batch`` (True: batch operations only, False: plain
        requests only) and ``batch_index`` (one operation's position)."""
        self._native.inject_fault(dict(fault))

    def clear_faults(self) -> None:
        self._native.clear_faults()

    def set_rate_limit(self, config: Optional[Mapping[str, Any]] = None, **kw: Any) -> None:
        """``set_rate_limit(enabled=True, max_calls=5, window_secs=60, code=613, regain_minutes=1)``."""
        merged: Dict[str, Any] = dict(config or {})
        merged.update(kw)
        self._native.set_rate_limit(merged)

    def set_conversations_pacing(self, per_second: int) -> None:
        """At most ``per_second`` conversations calls in any one second (613
        beyond); Graph allows about 2 per Page. 0 turns it off."""
        self._native.set_conversations_pacing(per_second)

    def set_log_capacity(self, capacity: int) -> None:
        """How many requests the log keeps (the oldest are dropped first)."""
        self._native.set_log_capacity(capacity)

    def conversations(self) -> List[Dict[str, Any]]:
        """Every conversation, newest first: id, folder, platform, updated_time, message_count, user_id."""
        convs: List[Dict[str, Any]] = self._native.conversations()
        return convs

    def bump_conversation(self, conversation_id: str, text: Optional[str] = None) -> Dict[str, Any]:
        """A new message arrives in a conversation: it becomes the newest and moves
        to the top of its folder (a walk in progress sees it again). Its summary."""
        summary: Dict[str, Any] = self._native.bump_conversation(conversation_id, text)
        return summary

    def now(self) -> datetime:
        """The emulated clock (thread expirations, message times), tz-aware."""
        return datetime.strptime(self._native.now(), _GRAPH_TIME)

    def advance_clock(self, seconds: int) -> datetime:
        """Moves the emulated clock forward (never back): expirations are tested
        without waiting. Returns the new time."""
        return datetime.strptime(self._native.advance_clock(int(seconds)), _GRAPH_TIME)

    def set_default_app(self, app: Optional[str]) -> None:
        """Conversation Routing's default app, or None for none (take then
        answers #27). Sends no webhook; :meth:`set_primary_receiver` does."""
        if app is not None:
            self.app(app)
        self._native.set_default_app(app)

    def set_feature_status(self, *, hop_v2: bool = True, msgr_multi_app: bool = True, ig_multi_app: bool = True) -> None:
        """What ``GET /{page}?fields=messaging_feature_status`` answers from now on."""
        self._native.set_feature_status(
            {"hop_v2": hop_v2, "msgr_multi_app": msgr_multi_app, "ig_multi_app": ig_multi_app}
        )

    def reset(self) -> None:
        """Threads, faults, log and counters back to the start; tokens and webhooks kept."""
        self._native.reset()

    def state(self) -> Dict[str, Any]:
        """Threads and their owners, pending requests, webhooks, counters."""
        state: Dict[str, Any] = self._native.state()
        return state

    def set_webhook(self, app: str, url: Optional[str]) -> None:
        """Registers (or with None removes) an app's webhook callback URL."""
        self.app(app)
        self._native.set_webhook(app, url)

    def simulate_message(self, psid: str, text: str) -> None:
        """A user message arrives on ``psid``; returns once the webhooks were delivered."""
        self._native.simulate_message(psid, text).wait()

    async def simulate_message_async(self, psid: str, text: str) -> None:
        await self._native.simulate_message(psid, text)

    def set_primary_receiver(self, app: str) -> None:
        """A Page admin makes ``app`` ("primary", "secondary" or "page_inbox")
        the primary receiver (the default app in routing mode). Each app whose
        role changed gets an ``app_roles`` webhook before this returns."""
        self.app(app)
        self._native.set_primary_receiver(app).wait()

    async def set_primary_receiver_async(self, app: str) -> None:
        self.app(app)
        await self._native.set_primary_receiver(app)


class ScriptedServer:
    """A tiny strict server: records every request, answers from a queue
    (for the shared conformance vectors). Unqueued requests get HTTP 599."""

    def __init__(self) -> None:
        self._native = _native.ScriptedServer()

    def __enter__(self) -> "ScriptedServer":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        self._native.shutdown()

    @property
    def url(self) -> str:
        return self._native.url

    def push_response(self, status: int = 200, headers: Optional[Mapping[str, str]] = None, body: str = "") -> None:
        """Queues one answer, served byte for byte."""
        self._native.push_response(status, dict(headers or {}), body)

    def requests(self) -> List[Dict[str, Any]]:
        """The requests received: method, path, query (list of pairs), headers, body."""
        reqs: List[Dict[str, Any]] = self._native.requests()
        return reqs

    def clear(self) -> None:
        self._native.clear()

    def __repr__(self) -> str:
        return f"ScriptedServer(url={self.url!r})"
