"""Messages and the inbox export (issue 12): the Python idioms over the
core's walk. The walk itself (folders x platforms, dedupe, ``since``, pacing,
the resumable JSONL writer) lives once, in the Rust core; this module adds
iteration, DataFrames, Arrow tables and a progress bar."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from collections import Counter
from datetime import datetime
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Union

from . import _native as _ext
# The message pagers live beside the conversation pagers (the clients'
# generated methods name them); re-exported here where they were first.
from ._client import AsyncMessagePager, MessagePager
from ._native import Conversation, Message

__all__ = ["MessagePager", "AsyncMessagePager", "Export", "ExportStats"]

ExportStats = Dict[str, Any]
"""``{"calls", "pages", "conversations", "duplicates_dropped", "time_waited"}``
(``time_waited`` in seconds), cumulative across resumed runs."""


def _require(module: str, extra: str) -> Any:
    """Imports an optional dependency, or says which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"this needs {module}, which is not installed: pip install \"messenger-handover[{extra}]\""
        ) from e


def _in_kernel() -> bool:
    """Running in a Jupyter kernel (a notebook), not merely with ipykernel imported."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _interactive() -> bool:
    """A notebook or a terminal on stderr."""
    if _in_kernel():
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress_bar(progress: Optional[bool]) -> Any:
    """A tqdm.auto bar counting conversations, or None (tqdm missing,
    ``progress=False``, or neither a notebook nor a terminal by default)."""
    if progress is False or (progress is None and not _interactive()):
        return None
    # tqdm.auto draws a widget in a notebook with ipywidgets; without it, it
    # warns and falls back to text: take the text bar directly then.
    widgets = not _in_kernel() or importlib.util.find_spec("ipywidgets") is not None
    try:
        tqdm = importlib.import_module("tqdm.auto" if widgets else "tqdm.std").tqdm
    except ImportError:
        return None
    return tqdm(desc="conversations", unit=" conv")


# The columns of to_pandas() / to_arrow(), in order.
COLUMNS = [
    "id",
    "folder",
    "platform",
    "updated_time",
    "snippet",
    "message_count",
    "unread_count",
    "customer_id",
    "customer_name",
    "customer_email",
    "participant_ids",
    "participant_names",
    "participant_count",
    "can_reply",
    "is_subscribed",
    "link",
    "scoped_thread_key",
    "last_message_text",
    "last_message_time",
    "messages",
]


def _message_row(m: Message) -> Dict[str, Any]:
    return {
        "id": m.id,
        "created_time": m.created_time,
        "sender_id": m.sender.id if m.sender else None,
        "sender_name": m.sender.name if m.sender else None,
        "text": m.text,
    }


def _rows(convs: List[Conversation], page_id: Optional[str]) -> List[Dict[str, Any]]:
    """One flat row per conversation. The customer is the participant that is
    not the Page; with ``page_id="me"`` the Page is the participant found in
    every conversation (the most frequent one)."""
    if page_id is None or page_id == "me":
        counts = Counter(p.id for c in convs for p in c.participants)
        page_id = counts.most_common(1)[0][0] if counts and len(convs) > 1 else None
    rows = []
    for c in convs:
        people = c.participants
        customer = next((p for p in people if p.id != page_id), None)
        messages = c.messages
        rows.append(
            {
                "id": c.id,
                "folder": c.folder,
                "platform": c.platform,
                "updated_time": c.updated_time,
                "snippet": c.snippet,
                "message_count": c.message_count,
                "unread_count": c.unread_count,
                "customer_id": customer.id if customer else None,
                "customer_name": customer.name if customer else None,
                "customer_email": customer.email if customer else None,
                "participant_ids": [p.id for p in people],
                "participant_names": [p.name for p in people],
                "participant_count": len(people),
                "can_reply": c.can_reply,
                "is_subscribed": c.is_subscribed,
                "link": c.link,
                "scoped_thread_key": c.scoped_thread_key,
                "last_message_text": messages[0].text if messages else None,
                "last_message_time": messages[0].created_time if messages else None,
                "messages": [_message_row(m) for m in messages],
            }
        )
    return rows


_STRINGS = ["id", "folder", "platform", "snippet", "customer_id", "customer_name", "customer_email", "link",
            "scoped_thread_key", "last_message_text"]
_INTS = ["message_count", "unread_count", "participant_count"]
_BOOLS = ["can_reply", "is_subscribed"]
_TIMES = ["updated_time", "last_message_time"]


class Export:
    """A running export of the Page's inbox (``client.export_conversations(...)``).

    Walk it once, any one way: ``for conv in export`` / ``async for conv in export``,
    :meth:`write_jsonl` (resumable with ``checkpoint=``), :meth:`to_pandas`,
    :meth:`to_arrow` or :meth:`write_parquet`. ``stats`` is live throughout.
    Each conversation comes once, with ``folder`` and ``platform`` filled in.
    """

    def __init__(self, native: _ext.NativeExport, progress: Optional[bool], page_id: Optional[str]) -> None:
        self._native = native
        self._progress = progress
        self._page_id = page_id

    @property
    def stats(self) -> ExportStats:
        """What the export did so far (earlier runs included when resumed)."""
        return self._native.stats

    def __repr__(self) -> str:
        return f"Export(stats={self.stats!r})"

    @staticmethod
    def _show(bar: Any, stats: ExportStats) -> None:
        # update() redraws at most every mininterval, whatever the item rate.
        bar.set_postfix(calls=stats["calls"], refresh=False)
        bar.update(stats["conversations"] - bar.n)

    def _tick(self, bar: Any) -> None:
        if bar is not None:
            self._show(bar, self.stats)

    @contextlib.contextmanager
    def _bar(self) -> Iterator[Any]:
        """The progress bar of one walk (or None), closed however the walk ends."""
        bar = _progress_bar(self._progress)
        try:
            yield bar
        finally:
            if bar is not None:
                bar.close()

    # The rest of a fetched page comes from next_ready() at once; only the
    # first conversation of a page needs a native call (one await per page).
    def __iter__(self) -> Iterator[Conversation]:
        native = self._native
        with self._bar() as bar:
            while (conv := native.next_ready()) is not None or (conv := native.next().wait()) is not None:
                self._tick(bar)
                yield conv

    def __aiter__(self) -> AsyncIterator[Conversation]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Conversation]:
        native = self._native
        with self._bar() as bar:
            while (conv := native.next_ready()) is not None or (conv := await native.next()) is not None:
                self._tick(bar)
                yield conv

    def to_list(self) -> List[Conversation]:
        """Every conversation, in a list."""
        return list(self)

    def write_jsonl(self, path: Union[str, "os.PathLike[str]"]) -> ExportStats:
        """Writes every conversation as one JSON line (Graph's object with
        ``folder`` and ``platform``) and returns the stats. With ``checkpoint=``
        an interrupted run started again with the same arguments continues where
        it stopped: no line twice, none lost, never a partial line."""
        with self._bar() as bar:
            stats: ExportStats = self._native.write_jsonl(os.fspath(path), self._on_page(bar)).wait()
            self._tick(bar)
            return stats

    async def awrite_jsonl(self, path: Union[str, "os.PathLike[str]"]) -> ExportStats:
        """:meth:`write_jsonl` as an awaitable."""
        with self._bar() as bar:
            stats: ExportStats = await self._native.write_jsonl(os.fspath(path), self._on_page(bar))
            self._tick(bar)
            return stats

    @staticmethod
    def _on_page(bar: Any) -> Any:
        if bar is None:
            return None

        return lambda stats: Export._show(bar, stats)

    def to_pandas(self) -> Any:
        """One row per conversation (the columns of ``COLUMNS``): participants
        flattened to ``customer_*`` and ``participant_*`` columns, times as
        tz-aware UTC timestamps, nullable ints, booleans and strings, and the
        inline messages (``messages=N``) as a list of dicts. Needs the
        ``[pandas]`` extra."""
        pd = _require("pandas", "pandas")
        rows = _rows(self.to_list(), self._page_id)
        df = pd.DataFrame(rows, columns=COLUMNS)
        for col in _TIMES:
            df[col] = pd.to_datetime(df[col], utc=True)
        for col in _STRINGS:
            df[col] = df[col].astype("string")
        for col in _INTS:
            df[col] = df[col].astype("Int64")
        for col in _BOOLS:
            df[col] = df[col].astype("boolean")
        return df

    def to_arrow(self) -> Any:
        """The same table as :meth:`to_pandas`, as a ``pyarrow.Table`` (no pandas
        needed). Needs the ``[arrow]`` extra."""
        pa = _require("pyarrow", "arrow")
        ts = pa.timestamp("us", tz="UTC")
        message = pa.struct(
            [("id", pa.string()), ("created_time", ts), ("sender_id", pa.string()), ("sender_name", pa.string()),
             ("text", pa.string())]
        )
        types: Dict[str, Any] = {c: pa.string() for c in _STRINGS}
        types.update({c: pa.int64() for c in _INTS})
        types.update({c: pa.bool_() for c in _BOOLS})
        types.update({c: ts for c in _TIMES})
        types["participant_ids"] = pa.list_(pa.string())
        types["participant_names"] = pa.list_(pa.string())
        types["messages"] = pa.list_(message)
        schema = pa.schema([(c, types[c]) for c in COLUMNS])
        return pa.Table.from_pylist(_rows(self.to_list(), self._page_id), schema=schema)

    def write_parquet(self, path: Union[str, "os.PathLike[str]"]) -> ExportStats:
        """Writes :meth:`to_arrow`'s table to a Parquet file; the stats. Needs the ``[arrow]`` extra."""
        table = self.to_arrow()
        pq = _require("pyarrow.parquet", "arrow")
        pq.write_table(table, os.fspath(path))
        return self.stats


def since_arg(since: Optional[datetime]) -> Optional[datetime]:
    if since is None:
        return None
    if not isinstance(since, datetime):
        raise TypeError(f"since must be a datetime, not {type(since).__name__}")
    return since
