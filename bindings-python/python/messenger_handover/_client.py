"""The two clients: :class:`AsyncClient` (awaitables) and :class:`Client`
(blocking), with the same methods, over one native Rust client each."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Generic, Iterable, Iterator, List, Mapping, Optional, Protocol, Type, TypeVar, Union

from . import _native as _ext
from ._batch import BatchOp
from ._native import App, Conversation, FeatureStatus, Message, MessagePage, Page, ThreadOwner
from ._types import (
    ACCESS_TOKEN_ENV,
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
    required_str_list,
    str_list,
    text,
    whole_seconds,
)

__all__ = [
    "AsyncClient",
    "Client",
    "AsyncConversationPager",
    "ConversationPager",
    "AsyncMessagePager",
    "MessagePager",
    "PAGE_INBOX_APP_ID",
    "BatchResult",
    "OwnerResult",
]

if TYPE_CHECKING:
    from ._export import Export

BatchResult = Union[ThreadOwner, List[App], FeatureStatus, None, Exception]
"""One result of :meth:`Client.batch`: the operation's value (a ThreadOwner or
None for ``thread_owner``, None for a thread-control call, a list of App, a
FeatureStatus) or, when it failed, its exception instance (a HandoverError
subclass), returned in the list rather than raised."""

OwnerResult = Union[ThreadOwner, None, Exception]
"""One result of :meth:`Client.thread_owners`: the owner, None (idle), or the
exception instance for that PSID."""


def _operations(ops: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[Any]:
    if ops is None or isinstance(ops, (str, bytes, Mapping)) or not hasattr(ops, "__iter__"):
        raise TypeError(f"operations must be a list of BatchOp, not {type(ops).__name__}")
    out: List[Any] = []
    for op in ops:
        if isinstance(op, BatchOp):
            out.append(op.to_dict())
        elif isinstance(op, Mapping):
            out.append(dict(op))
        else:
            raise TypeError(f"operations must hold BatchOp or dict items, not {type(op).__name__}")
    return out


class _Base:
    _native: _ext.NativeClient

    def __init__(
        self,
        access_token: Optional[str] = None,
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
        if access_token is None:
            # Read here, at construction; an empty variable counts as unset.
            access_token = os.environ.get(ACCESS_TOKEN_ENV) or None
            if access_token is None:
                raise TypeError(f"no access_token given, and {ACCESS_TOKEN_ENV} is not set")
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

    def _conversations_args(
        self,
        folder: Union[Folder, str, None],
        platform: Union[Platform, str, None],
        user_id: Optional[str],
        tags: Optional[Iterable[str]],
        fields: Optional[Iterable[str]],
        page_size: Optional[int],
        after: Optional[str],
        messages: Optional[int] = None,
    ) -> _ext.NativePager:
        return self._native.conversations(
            folder=enum_value(folder, Folder, "folder"),
            platform=enum_value(platform, Platform, "platform"),
            user_id=opt_text(user_id, "user_id"),
            tags=str_list(tags, "tags"),
            fields=str_list(fields, "fields"),
            page_size=count(page_size, "page_size"),
            after=opt_text(after, "after"),
            messages=count(messages, "messages"),
        )

    # ---- the inbox export (issue 12) ----
    def export_conversations(
        self,
        *,
        folders: Optional[Iterable[Union[Folder, str]]] = None,
        platforms: Optional[Iterable[Union[Platform, str]]] = None,
        fields: Optional[Iterable[str]] = None,
        messages: int = 0,
        since: Optional[datetime] = None,
        checkpoint: Union[str, "os.PathLike[str]", None] = None,
        max_calls_per_second: Optional[float] = _ext.DEFAULT_EXPORT_CALLS_PER_SECOND,
        page_size: int = 100,
        progress: Optional[bool] = None,
    ) -> "Export":
        """The Page's inbox: every folder (default all four) and platform (default
        Messenger) walked, each conversation once, ``messages`` newest messages
        each (0 to 20), stopping at conversations older than ``since`` (tz-aware),
        paced to ``max_calls_per_second`` (None: off). ``checkpoint`` (a path)
        makes :meth:`Export.write_jsonl` resumable. ``progress``: a tqdm bar
        (None: in a notebook or terminal when tqdm is installed). Arguments are
        checked now; nothing is sent until the export is walked."""
        from ._export import Export, since_arg

        def names(values: Any, cls: Any, argument: str) -> Optional[List[str]]:
            if values is None:
                return None
            if isinstance(values, (str, cls)):
                raise TypeError(f"{argument} must be a list, not a single {type(values).__name__}")
            return [v for v in (enum_value(x, cls, argument) for x in values) if v is not None]

        rate = max_calls_per_second
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))):
            raise TypeError(f"max_calls_per_second must be a number or None, not {type(rate).__name__}")
        if isinstance(rate, int):
            # An int past a float's range meets the core's "finite" rule, not an OverflowError.
            try:
                rate = float(rate)
            except OverflowError:
                rate = float("inf")
        if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be a path, not {type(checkpoint).__name__}")
        native = _ext.export_conversations(
            self._native,
            folders=names(folders, Folder, "folders"),
            platforms=names(platforms, Platform, "platforms"),
            fields=str_list(fields, "fields"),
            messages=count(messages, "messages") or 0,
            since=since_arg(since),
            checkpoint=os.fspath(checkpoint) if checkpoint is not None else None,
            max_calls_per_second=None if rate is None else float(rate),
            page_size=count(page_size, "page_size"),
        )
        return Export(native, progress, self.page_id)

    def _messages_args(
        self, conversation_id: str, fields: Optional[Iterable[str]], page_size: Optional[int], after: Optional[str]
    ) -> _ext.NativeMessagePager:
        return _ext.messages(
            self._native,
            text(conversation_id, "conversation_id"),
            fields=str_list(fields, "fields"),
            page_size=count(page_size, "page_size"),
            after=opt_text(after, "after"),
        )


class AsyncClient(_Base):
    """A Messenger thread-control and conversations client whose methods are awaitables.

    ``AsyncClient(access_token=None, *, page_id="me", app_secret=None, api_version="v26.0",
    base_url="https://graph.facebook.com", timeout=30.0, max_retries=3)``; without
    ``access_token``, the token is read from ``PAGE_ACCESS_TOKEN``.
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

    # BEGIN GENERATED by `cargo run -p xtask -- gen` from the core's tables: do not edit: async operations
    async def thread_owner(self, psid: str) -> Optional[ThreadOwner]:
        """Which app controls the thread with this user; none when the thread is idle."""
        return await self._native.thread_owner(text(psid, "psid"))

    async def pass_thread_control(self, psid: str, target_app_id: str, metadata: Optional[str] = None) -> None:
        """Passes the thread to another app (``target_app_id``: digits only).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        await self._native.pass_thread_control(text(psid, "psid"), text(target_app_id, "target_app_id"), opt_text(metadata, "metadata"))

    async def pass_thread_control_to_page_inbox(
        self,
        psid: str,
        metadata: Optional[str] = None,
        platform: Union[Platform, str, None] = None,
    ) -> None:
        """Hands the chat to the people answering in the Page Inbox, or with platform ``instagram`` in
        the Instagram Inbox.

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
            platform: ``instagram``: the Instagram Inbox; default the Page Inbox (Messenger).
        """
        await self._native.pass_thread_control_to_page_inbox(text(psid, "psid"), opt_text(metadata, "metadata"), enum_value(platform, Platform, "platform"))

    async def feature_status(self) -> FeatureStatus:
        """Whether Conversation Routing (``hop_v2``) and multi-app messaging are on for the Page."""
        return await self._native.feature_status()

    async def batch(self, operations: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[BatchResult]:
        """Runs many operations through Graph batch requests (50 per request, longer lists in
        concurrent requests). Gives one result per operation, in order: its value, or its error
        (returned, not raised). Fails only for a bad argument, before anything is sent.
        """
        return await self._native.batch(_operations(operations))

    async def thread_owners(self, psids: Iterable[str]) -> List[OwnerResult]:
        """Who owns each thread, through batch requests: one result per PSID, in order (the owner, none
        when the thread is idle, or that PSID's error).
        """
        return await self._native.thread_owners(required_str_list(psids, "psids"))

    async def take_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Takes the thread back from the app that controls it (the Page's primary receiver only).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        await self._native.take_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def request_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Asks the primary receiver to pass the thread to this app.

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        await self._native.request_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def release_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Gives up control of the thread (Conversation Routing).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        await self._native.release_thread_control(text(psid, "psid"), opt_text(metadata, "metadata"))

    async def extend_thread_control(self, psid: str, duration: Union[int, timedelta]) -> None:
        """Extends this app's control of the thread (Conversation Routing) by ``duration``.

        Args:
            duration: At most 7 days, in whole seconds.
        """
        await self._native.extend_thread_control(text(psid, "psid"), whole_seconds(duration, "duration"))

    async def secondary_receivers(self) -> List[App]:
        """The apps with a role on the Page besides this one."""
        return await self._native.secondary_receivers()

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
        messages: Optional[int] = None,
    ) -> AsyncConversationPager:
        """A pager over the Page's conversations, item by item or page by page. Arguments are checked
        now; nothing is sent until the first item or page is asked for.

        Args:
            fields: Graph field expressions, e.g. ``participants{name}``, ``messages.limit(1)``.
            page_size: 1 to 100.
            after: Resume from ``conversations.after`` of an earlier run (exact to the item).
            messages: The newest 1 to 20 messages of each conversation, inline (Graph details
                only the 20 newest).
        """
        return AsyncConversationPager(self._conversations_args(folder, platform, user_id, tags, fields, page_size, after, messages))

    def messages(
        self,
        conversation_id: str,
        fields: Optional[Iterable[str]] = None,
        page_size: Optional[int] = None,
        after: Optional[str] = None,
    ) -> AsyncMessagePager:
        """A pager over a conversation's messages, newest first. Arguments are checked now; nothing is
        sent until the first item or page is asked for.

        Args:
            fields: Graph field expressions (expansion syntax accepted).
            page_size: 1 to 100.
            after: Resume from ``messages.after`` of an earlier run (exact to the item).
        """
        return AsyncMessagePager(self._messages_args(conversation_id, fields, page_size, after))
    # END GENERATED


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

    # BEGIN GENERATED by `cargo run -p xtask -- gen` from the core's tables: do not edit: blocking operations
    def thread_owner(self, psid: str) -> Optional[ThreadOwner]:
        """Which app controls the thread with this user; none when the thread is idle."""
        return self._native.thread_owner(text(psid, "psid")).wait()

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: Optional[str] = None) -> None:
        """Passes the thread to another app (``target_app_id``: digits only).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        self._native.pass_thread_control(text(psid, "psid"), text(target_app_id, "target_app_id"), opt_text(metadata, "metadata")).wait()

    def pass_thread_control_to_page_inbox(
        self,
        psid: str,
        metadata: Optional[str] = None,
        platform: Union[Platform, str, None] = None,
    ) -> None:
        """Hands the chat to the people answering in the Page Inbox, or with platform ``instagram`` in
        the Instagram Inbox.

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
            platform: ``instagram``: the Instagram Inbox; default the Page Inbox (Messenger).
        """
        self._native.pass_thread_control_to_page_inbox(text(psid, "psid"), opt_text(metadata, "metadata"), enum_value(platform, Platform, "platform")).wait()

    def feature_status(self) -> FeatureStatus:
        """Whether Conversation Routing (``hop_v2``) and multi-app messaging are on for the Page."""
        return self._native.feature_status().wait()

    def batch(self, operations: Iterable[Union[BatchOp, Mapping[str, Any]]]) -> List[BatchResult]:
        """Runs many operations through Graph batch requests (50 per request, longer lists in
        concurrent requests). Gives one result per operation, in order: its value, or its error
        (returned, not raised). Fails only for a bad argument, before anything is sent.
        """
        return self._native.batch(_operations(operations)).wait()

    def thread_owners(self, psids: Iterable[str]) -> List[OwnerResult]:
        """Who owns each thread, through batch requests: one result per PSID, in order (the owner, none
        when the thread is idle, or that PSID's error).
        """
        return self._native.thread_owners(required_str_list(psids, "psids")).wait()

    def take_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Takes the thread back from the app that controls it (the Page's primary receiver only).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        self._native.take_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def request_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Asks the primary receiver to pass the thread to this app.

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        self._native.request_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def release_thread_control(self, psid: str, metadata: Optional[str] = None) -> None:
        """Gives up control of the thread (Conversation Routing).

        Args:
            metadata: Passed to the other app with the event (at most 1000 characters).
        """
        self._native.release_thread_control(text(psid, "psid"), opt_text(metadata, "metadata")).wait()

    def extend_thread_control(self, psid: str, duration: Union[int, timedelta]) -> None:
        """Extends this app's control of the thread (Conversation Routing) by ``duration``.

        Args:
            duration: At most 7 days, in whole seconds.
        """
        self._native.extend_thread_control(text(psid, "psid"), whole_seconds(duration, "duration")).wait()

    def secondary_receivers(self) -> List[App]:
        """The apps with a role on the Page besides this one."""
        return self._native.secondary_receivers().wait()

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
        messages: Optional[int] = None,
    ) -> ConversationPager:
        """A pager over the Page's conversations, item by item or page by page. Arguments are checked
        now; nothing is sent until the first item or page is asked for.

        Args:
            fields: Graph field expressions, e.g. ``participants{name}``, ``messages.limit(1)``.
            page_size: 1 to 100.
            after: Resume from ``conversations.after`` of an earlier run (exact to the item).
            messages: The newest 1 to 20 messages of each conversation, inline (Graph details
                only the 20 newest).
        """
        return ConversationPager(self._conversations_args(folder, platform, user_id, tags, fields, page_size, after, messages))

    def messages(
        self,
        conversation_id: str,
        fields: Optional[Iterable[str]] = None,
        page_size: Optional[int] = None,
        after: Optional[str] = None,
    ) -> MessagePager:
        """A pager over a conversation's messages, newest first. Arguments are checked now; nothing is
        sent until the first item or page is asked for.

        Args:
            fields: Graph field expressions (expansion syntax accepted).
            page_size: 1 to 100.
            after: Resume from ``messages.after`` of an earlier run (exact to the item).
        """
        return MessagePager(self._messages_args(conversation_id, fields, page_size, after))
    # END GENERATED


_Item = TypeVar("_Item")


class _PageOf(Protocol[_Item]):
    @property
    def items(self) -> List[_Item]: ...


_Pg = TypeVar("_Pg", bound="_PageOf[Any]")


def _limit(limit: Optional[int]) -> Optional[int]:
    n = count(limit, "limit")
    if n is not None and n < 0:
        raise ValueError("limit must be 0 or more")
    return n


class _PagerBase:
    def __init__(self, native: Any) -> None:
        # A NativePager or NativeMessagePager: the same methods, other items.
        self._native = native
        # Items of the last page handed out by item iteration (None: the whole page).
        self._consumed: Optional[int] = None
        # The item loops' page: a loop left early (break) leaves the rest of it
        # here, and the next loop over this pager starts with that rest.
        self._loop_items: List[Any] = []

    def _page_taken(self) -> None:
        # `next_page()` hands a page out whole: nothing of it is left for a loop.
        self._consumed = None
        self._loop_items = []

    def _loop_start(self, items: List[Any]) -> None:
        # An item loop takes a page: none of its items handed out yet.
        self._loop_items = items
        self._consumed = 0

    def _loop_item(self) -> Any:
        """The next item of the loops' page (there is one), counted before it
        is handed out: a `break` leaves `after` just past it."""
        i = self._consumed or 0
        self._consumed = i + 1
        return self._loop_items[i]

    def _loop_has_item(self) -> bool:
        return self._consumed is not None and self._consumed < len(self._loop_items)

    @property
    def after(self) -> Optional[str]:
        """The resume point after every item handed out so far, exact to the item
        even when a loop stopped mid-page: pass it as ``after=`` to resume."""
        after: Optional[str] = self._native.resume_after(self._consumed)
        return after

    @property
    def finished(self) -> bool:
        """True once the last page was read."""
        finished: bool = self._native.finished
        return finished

    def __repr__(self) -> str:
        return f"{type(self).__name__}(after={self.after!r}, finished={self.finished})"


class _AsyncPager(_PagerBase, Generic[_Pg, _Item]):
    async def next_page(self) -> Optional[_Pg]:
        """The next page, or None after the last one."""
        # A prefetched page that already landed is taken at once: awaiting the
        # runtime would cost a wake-up of the loop per page.
        page: Optional[_Pg] = self._native.next_page_ready()
        if page is None:
            page = await self._native.next_page()
        self._page_taken()
        return page

    async def pages(self) -> AsyncIterator[_Pg]:
        while True:
            page = await self.next_page()
            if page is None:
                return
            yield page

    def __aiter__(self) -> AsyncIterator[_Item]:
        return self._items()

    async def _items(self) -> AsyncIterator[_Item]:
        while True:
            if not self._loop_has_item():
                page = await self.next_page()
                if page is None:
                    return
                self._loop_start(page.items)
                continue
            yield self._loop_item()

    async def to_list(self, limit: Optional[int] = None) -> List[_Item]:
        """Every item (or the first ``limit``) in a list."""
        n = _limit(limit)
        out: List[_Item] = []
        if n == 0:
            return out
        async for item in self:
            out.append(item)
            # Stop on the last item wanted, not on the one after: that one
            # would count as handed out, and `after` would skip it.
            if n is not None and len(out) >= n:
                break
        return out


class _SyncPager(_PagerBase, Generic[_Pg, _Item]):
    def next_page(self) -> Optional[_Pg]:
        """The next page, or None after the last one."""
        page: Optional[_Pg] = self._native.next_page_ready()
        if page is None:
            page = self._native.next_page().wait()
        self._page_taken()
        return page

    def pages(self) -> Iterator[_Pg]:
        while True:
            page = self.next_page()
            if page is None:
                return
            yield page

    def __iter__(self) -> Iterator[_Item]:
        while True:
            if not self._loop_has_item():
                page = self.next_page()
                if page is None:
                    return
                self._loop_start(page.items)
                continue
            yield self._loop_item()

    def to_list(self, limit: Optional[int] = None) -> List[_Item]:
        """Every item (or the first ``limit``) in a list."""
        n = _limit(limit)
        out: List[_Item] = []
        if n == 0:
            return out
        for item in self:
            out.append(item)
            # Stop on the last item wanted, not on the one after: that one
            # would count as handed out, and `after` would skip it.
            if n is not None and len(out) >= n:
                break
        return out


class AsyncConversationPager(_AsyncPager[Page, Conversation]):
    """``async for conv in pager`` (item by item) or ``async for page in pager.pages()``.
    The next page is fetched while this one is handled; breaking out stops fetching."""


class ConversationPager(_SyncPager[Page, Conversation]):
    """``for conv in pager`` (item by item) or ``for page in pager.pages()``.
    The next page is fetched while this one is handled; breaking out stops fetching."""


class AsyncMessagePager(_AsyncPager[MessagePage, Message]):
    """``async for msg in pager`` (newest first) or ``async for page in pager.pages()``;
    ``after`` resumes exactly where a loop stopped."""


class MessagePager(_SyncPager[MessagePage, Message]):
    """``for msg in pager`` (newest first) or ``for page in pager.pages()``;
    ``after`` resumes exactly where a loop stopped."""
