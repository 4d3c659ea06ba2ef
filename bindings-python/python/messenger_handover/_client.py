"""The two clients: :class:`AsyncClient` (awaitables) and :class:`Client`
(blocking), with the same methods, over one native Rust client each."""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType
from typing import Any, AsyncIterator, Dict, Iterable, Iterator, List, Mapping, Optional, Type, Union

from . import _native as _ext
from ._batch import BatchOp
from ._native import App, Conversation, FeatureStatus, Page, ThreadOwner
from ._types import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    PAGE_INBOX_APP_ID,
    Folder,
    Platform,
    count,
    enum_value,
    opt_text,
    seconds_arg,
    str_list,
    text,
    whole_seconds,
)

__all__ = [
    "AsyncClient",
    "Client",
    "AsyncConversationPager",
    "ConversationPager",
    "PAGE_INBOX_APP_ID",
    "BatchResult",
    "OwnerResult",
]

BatchResult = Union[ThreadOwner, List[App], FeatureStatus, None, Exception]
"""One result of :meth:`Client.batch`: the operation's value (a ThreadOwner or
None for ``thread_owner``, None for a thread-control call, a list of App, a
FeatureStatus) or, when it failed, its exception instance (a HandoverError
subclass), returned in the list rather than raised."""

OwnerResult = Union[ThreadOwner, None, Exception]
"""One result of :meth:`Client.thread_owners`: the owner, None (idle), or the
exception instance for that PSID."""


def _operations(ops: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[Any]:
    if isinstance(ops, (str, bytes, Mapping)):
        raise TypeError(f"operations must be a list of BatchOp, not a single {type(ops).__name__}")
    out: List[Any] = []
    for op in ops:
        if isinstance(op, BatchOp):
            out.append(op.to_dict())
        elif isinstance(op, Mapping):
            out.append(dict(op))
        else:
            raise TypeError(f"operations must hold BatchOp or dict items, not {type(op).__name__}")
    return out


def _psids(psids: Iterable[str]) -> List[str]:
    out = str_list(psids, "psids")
    return [] if out is None else out


class _Base:
    _native: _ext.NativeClient

    def __init__(
        self,
        access_token: str,
        *,
        page_id: str = "me",
        app_secret: Optional[str] = None,
        api_version: str = DEFAULT_API_VERSION,
        base_url: str = DEFAULT_BASE_URL,
        timeout: Union[float, timedelta] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: Union[float, timedelta, None] = None,
        retry_base_delay: Union[float, timedelta, None] = None,
        max_response_bytes: Optional[int] = None,
        max_connections: Optional[int] = None,
    ) -> None:
        self._native = _ext.NativeClient(
            text(access_token, "access_token"),
            page_id=text(page_id, "page_id"),
            app_secret=opt_text(app_secret, "app_secret"),
            api_version=text(api_version, "api_version"),
            base_url=text(base_url, "base_url"),
            timeout=seconds_arg(timeout, "timeout"),
            max_retries=count(max_retries, "max_retries"),
            max_retry_wait=seconds_arg(max_retry_wait, "max_retry_wait"),
            retry_base_delay=seconds_arg(retry_base_delay, "retry_base_delay"),
            max_response_bytes=count(max_response_bytes, "max_response_bytes"),
            max_connections=count(max_connections, "max_connections"),
        )

    @property
    def page_id(self) -> str:
        """The Page calls go to (``me``: the Page the token belongs to)."""
        return self._native.page_id

    @property
    def api_version(self) -> str:
        return self._native.api_version

    @property
    def base_url(self) -> str:
        return self._native.base_url

    @property
    def closed(self) -> bool:
        return self._native.closed

    @property
    def last_usage(self) -> Optional[Dict[str, Any]]:
        """The usage headers (``X-App-Usage``, ``X-Page-Usage``,
        ``X-Business-Use-Case-Usage``) of the last response, as a dict
        ``{"app": {...} | None, "page": {...} | None, "business_use_case": [...]}``,
        or None before any response carried them."""
        usage: Optional[Dict[str, Any]] = self._native.last_usage()
        return usage

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(page_id={self.page_id!r}, base_url={self.base_url!r}, "
            f"api_version={self.api_version!r})"
        )

    def _pager_args(
        self,
        folder: Union[Folder, str, None],
        platform: Union[Platform, str, None],
        user_id: Optional[str],
        tags: Optional[Iterable[str]],
        fields: Optional[Iterable[str]],
        page_size: Optional[int],
        after: Optional[str],
    ) -> _ext.NativePager:
        return self._native.conversations(
            folder=enum_value(folder, Folder, "folder"),
            platform=enum_value(platform, Platform, "platform"),
            user_id=opt_text(user_id, "user_id"),
            tags=str_list(tags, "tags"),
            fields=str_list(fields, "fields"),
            page_size=count(page_size, "page_size"),
            after=opt_text(after, "after"),
        )


class AsyncClient(_Base):
    """A Messenger thread-control and conversations client whose methods are awaitables.

    ``AsyncClient(access_token, *, page_id="me", app_secret=None, api_version="v26.0",
    base_url="https://graph.facebook.com", timeout=30.0, max_retries=3)``.
    Use it as ``async with AsyncClient(...) as client:``. Cancelling an awaiting task
    drops the HTTP request at once.
    """

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the connections; later calls raise RuntimeError."""
        self._native.close()

    def close(self) -> None:
        self._native.close()

    async def thread_owner(self, psid: str) -> Optional[ThreadOwner]:
        """Which app controls the thread with this user, or None when it is idle."""
        result: Optional[ThreadOwner] = await self._native.thread_owner(text(psid, "psid"))
        return result

    async def pass_thread_control(self, psid: str, target_app_id: str, metadata: Optional[str] = None) -> None:
        """Passes the thread to another app (``target_app_id``: digits only)."""
        await self._native.pass_thread_control(text(psid, "psid"), text(target_app_id, "target_app_id"), opt_text(metadata, "metadata"))

    async def pass_thread_control_to_page_inbox(
        self, psid: str, metadata: Optional[str] = None, platform: Union[Platform, str, None] = None
    ) -> None:
        """Hands the chat to the people answering in the Page Inbox, or with
        ``platform="instagram"`` in the Instagram Inbox."""
        await self._native.pass_thread_control_to_page_inbox(
            text(psid, "psid"), opt_text(metadata, "metadata"), enum_value(platform, Platform, "platform")
        )

    async def feature_status(self) -> FeatureStatus:
        """Whether Conversation Routing (``hop_v2``) and multi-app messaging are on for the Page."""
        status: FeatureStatus = await self._native.feature_status()
        return status

    async def batch(self, operations: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[BatchResult]:
        """Runs many operations through Graph batch requests (50 per request,
        longer lists in concurrent requests). Returns one result per operation,
        in order: its value, or its exception instance (not raised). Raises only
        for a bad argument, before anything is sent."""
        results: List[BatchResult] = await self._native.batch(_operations(operations))
        return results

    async def thread_owners(self, psids: Iterable[str]) -> List[OwnerResult]:
        """Who owns each thread, one result per PSID in order, through batch
        requests: a ThreadOwner, None (idle), or that PSID's exception instance."""
        results: List[OwnerResult] = await self._native.thread_owners(_psids(psids))
        return results

    async def take_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        await self._native.take_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def request_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        await self._native.request_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def release_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        await self._native.release_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def extend_thread_control(self, psid: str, duration: Union[int, timedelta]) -> None:
        """Extends this app's control of the thread (Conversation Routing) by
        ``duration``: whole seconds (int) or a ``timedelta``, at most 7 days."""
        await self._native.extend_thread_control(text(psid, "psid"), whole_seconds(duration))

    async def secondary_receivers(self) -> List[App]:
        """The apps with a role on the Page besides this one."""
        apps: List[App] = await self._native.secondary_receivers()
        return apps

    def conversations(
        self,
        *,
        folder: Union[Folder, str, None] = None,
        platform: Union[Platform, str, None] = None,
        user_id: Optional[str] = None,
        tags: Optional[Iterable[str]] = None,
        fields: Optional[Iterable[str]] = None,
        page_size: Optional[int] = None,
        after: Optional[str] = None,
    ) -> "AsyncConversationPager":
        """A pager over the Page's conversations: ``async for conv in client.conversations(...)``.
        Arguments are checked now; nothing is sent until iteration starts."""
        return AsyncConversationPager(self._pager_args(folder, platform, user_id, tags, fields, page_size, after))


class Client(_Base):
    """The blocking twin of :class:`AsyncClient`: the same methods, for scripts and notebooks.

    Calls release the GIL while they wait, work from a thread that runs an
    event loop (Jupyter), and stop on Ctrl-C.
    """

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections; later calls raise RuntimeError."""
        self._native.close()

    def thread_owner(self, psid: str) -> Optional[ThreadOwner]:
        """Which app controls the thread with this user, or None when it is idle."""
        result: Optional[ThreadOwner] = self._native.thread_owner(text(psid, "psid")).wait()
        return result

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: Optional[str] = None) -> None:
        """Passes the thread to another app (``target_app_id``: digits only)."""
        self._native.pass_thread_control(text(psid, "psid"), text(target_app_id, "target_app_id"), opt_text(metadata, "metadata")).wait()

    def pass_thread_control_to_page_inbox(
        self, psid: str, metadata: Optional[str] = None, platform: Union[Platform, str, None] = None
    ) -> None:
        """Hands the chat to the people answering in the Page Inbox, or with
        ``platform="instagram"`` in the Instagram Inbox."""
        self._native.pass_thread_control_to_page_inbox(
            text(psid, "psid"), opt_text(metadata, "metadata"), enum_value(platform, Platform, "platform")
        ).wait()

    def feature_status(self) -> FeatureStatus:
        """Whether Conversation Routing (``hop_v2``) and multi-app messaging are on for the Page."""
        status: FeatureStatus = self._native.feature_status().wait()
        return status

    def batch(self, operations: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[BatchResult]:
        """Runs many operations through Graph batch requests (50 per request,
        longer lists in concurrent requests). Returns one result per operation,
        in order: its value, or its exception instance (not raised). Raises only
        for a bad argument, before anything is sent::

            results = client.batch([BatchOp.thread_owner(psid) for psid in psids])
            failed = [r for r in results if isinstance(r, Exception)]
        """
        results: List[BatchResult] = self._native.batch(_operations(operations)).wait()
        return results

    def thread_owners(self, psids: Iterable[str]) -> List[OwnerResult]:
        """Who owns each thread, one result per PSID in order, through batch
        requests: a ThreadOwner, None (idle), or that PSID's exception instance."""
        results: List[OwnerResult] = self._native.thread_owners(_psids(psids)).wait()
        return results

    def take_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        self._native.take_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def request_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        self._native.request_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def release_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        self._native.release_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def extend_thread_control(self, psid: str, duration: Union[int, timedelta]) -> None:
        """Extends this app's control of the thread (Conversation Routing) by
        ``duration``: whole seconds (int) or a ``timedelta``, at most 7 days."""
        self._native.extend_thread_control(text(psid, "psid"), whole_seconds(duration)).wait()

    def secondary_receivers(self) -> List[App]:
        """The apps with a role on the Page besides this one."""
        apps: List[App] = self._native.secondary_receivers().wait()
        return apps

    def conversations(
        self,
        *,
        folder: Union[Folder, str, None] = None,
        platform: Union[Platform, str, None] = None,
        user_id: Optional[str] = None,
        tags: Optional[Iterable[str]] = None,
        fields: Optional[Iterable[str]] = None,
        page_size: Optional[int] = None,
        after: Optional[str] = None,
    ) -> "ConversationPager":
        """A pager over the Page's conversations: ``for conv in client.conversations(...)``.
        Arguments are checked now; nothing is sent until iteration starts."""
        return ConversationPager(self._pager_args(folder, platform, user_id, tags, fields, page_size, after))


class _PagerBase:
    def __init__(self, native: _ext.NativePager) -> None:
        self._native = native
        # Items of the last page handed out by item iteration (None: the whole page).
        self._consumed: Optional[int] = None

    @property
    def after(self) -> Optional[str]:
        """The resume point after every item handed out so far, exact to the item
        even when a loop stopped mid-page: pass it as ``after=`` to resume."""
        return self._native.resume_after(self._consumed)

    @property
    def finished(self) -> bool:
        """True once the last page was read."""
        return self._native.finished

    def __repr__(self) -> str:
        return f"{type(self).__name__}(after={self.after!r}, finished={self.finished})"


class AsyncConversationPager(_PagerBase):
    """``async for conv in pager`` (item by item) or ``async for page in pager.pages()``.
    The next page is fetched while this one is handled; breaking out stops fetching."""

    async def next_page(self) -> Optional[Page]:
        """The next page, or None after the last one."""
        page: Optional[Page] = await self._native.next_page(False)
        self._consumed = None
        return page

    async def pages(self) -> AsyncIterator[Page]:
        while True:
            page = await self.next_page()
            if page is None:
                return
            yield page

    def __aiter__(self) -> AsyncIterator[Conversation]:
        return self._items()

    async def _items(self) -> AsyncIterator[Conversation]:
        while True:
            page = await self.next_page()
            if page is None:
                return
            # Counted before each yield: a `break` leaves `after` just past that item.
            for i, conv in enumerate(page.items):
                self._consumed = i + 1
                yield conv

    async def to_list(self, limit: Optional[int] = None) -> List[Conversation]:
        """Every conversation (or the first ``limit``) in a list."""
        out: List[Conversation] = []
        async for conv in self:
            if limit is not None and len(out) >= limit:
                break
            out.append(conv)
        return out


class ConversationPager(_PagerBase):
    """``for conv in pager`` (item by item) or ``for page in pager.pages()``.
    The next page is fetched while this one is handled; breaking out stops fetching."""

    def next_page(self) -> Optional[Page]:
        """The next page, or None after the last one."""
        page: Optional[Page] = self._native.next_page(True)
        self._consumed = None
        return page

    def pages(self) -> Iterator[Page]:
        while True:
            page = self.next_page()
            if page is None:
                return
            yield page

    def __iter__(self) -> Iterator[Conversation]:
        for page in self.pages():
            # Counted before each yield: a `break` leaves `after` just past that item.
            for i, conv in enumerate(page.items):
                self._consumed = i + 1
                yield conv

    def to_list(self, limit: Optional[int] = None) -> List[Conversation]:
        """Every conversation (or the first ``limit``) in a list."""
        out: List[Conversation] = []
        for conv in self:
            if limit is not None and len(out) >= limit:
                break
            out.append(conv)
        return out
