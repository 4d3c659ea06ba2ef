"""Messages and the inbox export from Python (issue 12), against the emulator
over real HTTP: paging and resuming messages, field expansion, the export's
walk (union of folders, dedupe, ``since``, pacing), the checkpoint's refusals,
DataFrames, and resuming a JSONL export killed with SIGKILL again and again."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, List

import pytest

from messenger_handover import Message
from messenger_handover.testing import Emulator

UNPACED: dict = {"max_calls_per_second": None}


def lines(path: Path) -> List[dict]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "no partial line"
    return [json.loads(line) for line in data.splitlines()]


# ---------------------------------------------------------------- messages


@pytest.mark.emulator(conversations=20)
def test_messages_page_to_the_end_and_resume_exactly(emulator: Emulator) -> None:
    with emulator.client() as client:
        conv = max(client.conversations(fields=["id", "message_count"]), key=lambda c: c.message_count or 0)
        everything = list(client.messages(conv.id, page_size=7))
        assert len(everything) == conv.message_count > 7
        assert all(isinstance(m, Message) and m.id for m in everything)
        # Graph details only the 20 newest messages; older ones are bare ids.
        detailed = everything[:20]
        assert all(m.created_time and m.text for m in detailed) and everything[-1].text is None
        times = [m.created_time for m in detailed]
        assert times == sorted(times, reverse=True), "newest first"
        pager = client.messages(conv.id, page_size=7)
        first = []
        for m in pager:
            first.append(m.id)
            if len(first) == 10:  # mid-page
                break
        rest = [m.id for m in client.messages(conv.id, page_size=7, after=pager.after)]
        assert first + rest == [m.id for m in everything], "nothing lost, nothing doubled"
        page = client.messages(conv.id, page_size=3).next_page()
        assert page is not None and len(page) == 3 and page.has_next


@pytest.mark.emulator(conversations=10)
async def test_async_messages_and_typed_fields(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        conv = (await client.conversations(fields=["id", "message_count"]).to_list(limit=1))[0]
        msgs = [m async for m in client.messages(conv.id)]
    assert len(msgs) == conv.message_count
    m = msgs[0]
    assert m.sender is not None and m.recipients and m.text
    assert m.raw["id"] == m.id and m.to_dict()["text"] == m.text
    assert m.created_time is not None and m.created_time.tzinfo is not None


@pytest.mark.emulator(conversations=12)
def test_field_expansion_inlines_the_newest_messages(emulator: Emulator) -> None:
    with emulator.client() as client:
        convs = list(client.conversations(messages=3))
        assert convs
        for conv in convs:
            paged = [m.id for m in client.messages(conv.id, page_size=3).next_page().items]  # type: ignore[union-attr]
            assert [m.id for m in conv.messages] == paged[: min(3, conv.message_count or 0)]
        custom = list(client.conversations(fields=["id", "updated_time", "messages.limit(2){id,message}"]))
        assert all(len(c.messages) <= 2 and all(m.text for m in c.messages) for c in custom)
    # The refusals run against an emulator of their own: the pagers above may
    # leave a prefetch in flight that reaches the shared emulator's log later.
    with Emulator(conversations=1) as quiet, quiet.client() as client:
        with pytest.raises(ValueError, match="fields"):
            client.conversations(fields=["id", "messages.limit(2){id,message"])
        with pytest.raises(ValueError, match="messages"):
            client.conversations(messages=21)  # Graph details only the 20 newest
        with pytest.raises(ValueError, match="conversation_id"):
            client.messages("../me")
        assert quiet.request_log() == [], "refused before anything is sent"


# ---------------------------------------------------------------- the walk


@pytest.mark.emulator(conversations=150)
def test_export_over_all_folders_is_the_union_of_the_folder_pagers(emulator: Emulator) -> None:
    with emulator.client() as client:
        union = {}
        for folder in ("inbox", "other", "page_done", "spam"):
            for conv in client.conversations(folder=folder, page_size=50):
                union[conv.id] = folder
        export = client.export_conversations(page_size=20, **UNPACED)
        got = {c.id: (c.folder, c.platform) for c in export}
    assert got == {i: (f, "messenger") for i, f in union.items()}
    assert export.stats["conversations"] == len(union) and export.stats["duplicates_dropped"] == 0


@pytest.mark.emulator(conversations=200)
def test_export_drops_conversations_moved_to_the_top_mid_walk(emulator: Emulator) -> None:
    with emulator.client() as client:
        every = [c.id for c in client.export_conversations(folders=["inbox"], page_size=10, **UNPACED)]
        export = client.export_conversations(folders=["inbox"], page_size=10, **UNPACED)
        got, bumped = [], set()
        for conv in export:
            got.append(conv.id)
            if len(got) % 10 == 5 and len(got) < 60:
                # A thread not reached yet jumps to the top: the ones above its
                # old place slide down, so the next page repeats one.
                ahead = every[len(got) + 25]
                emulator.bump_conversation(ahead, "again")
                bumped.add(ahead)
    assert len(got) == len(set(got)), "each conversation once"
    assert export.stats["duplicates_dropped"] >= 1, export.stats
    assert set(every) - set(got) <= bumped, "only threads moved behind the cursor are left for the next run"


@pytest.mark.emulator(conversations=300)
def test_since_stops_each_walk_early(emulator: Emulator) -> None:
    with emulator.client() as client:
        inbox = list(client.conversations(page_size=100))
        since = inbox[15].updated_time
        assert since is not None
        emulator.clear_request_log()
        full = client.export_conversations(page_size=5, **UNPACED).to_list()
        full_calls = len(emulator.request_log())
        emulator.clear_request_log()
        recent = client.export_conversations(page_size=5, since=since, **UNPACED).to_list()
        recent_calls = len(emulator.request_log())
    assert recent and all(c.updated_time is not None and c.updated_time >= since for c in recent)
    assert {c.id for c in recent} == {c.id for c in full if c.updated_time is not None and c.updated_time >= since}
    assert recent_calls * 3 < full_calls, (recent_calls, full_calls)


@pytest.mark.emulator(conversations=300, conversations_per_second=2)
def test_default_pacing_never_trips_the_emulators_limiter(emulator: Emulator) -> None:
    with emulator.client() as client:
        export = client.export_conversations(page_size=40)  # default pacing: 2 calls/s
        n = len(export.to_list())
    log = emulator.request_log()
    assert n > 200 and len(log) >= 8, len(log)
    assert [r for r in log if r["status"] != 200] == [], "no call refused by the 2 calls/s limiter"


async def test_async_for_and_awrite_jsonl(emulator: Emulator, tmp_path: Path) -> None:
    async with emulator.async_client() as client:
        ids = [c.id async for c in client.export_conversations(messages=2, **UNPACED)]
        stats = await client.export_conversations(messages=2, **UNPACED).awrite_jsonl(tmp_path / "out.jsonl")
    written = lines(tmp_path / "out.jsonl")
    assert [r["id"] for r in written] == ids and stats["conversations"] == len(ids)
    assert all(r["folder"] and r["platform"] == "messenger" and "messages" in r for r in written)


@pytest.mark.emulator(conversations=120)
async def test_async_export_hands_a_fetched_page_out_with_stats_exact_to_each_conversation(
    emulator: Emulator, tmp_path: Path
) -> None:
    # The rest of a page comes without a native await per conversation (issue 14):
    # the order, and the stats after each conversation, are the blocking walk's.
    opts: dict = {"folders": ["inbox"], "page_size": 10, **UNPACED}
    with emulator.client() as client:
        every = [c.id for c in client.export_conversations(**opts)]
    assert len(every) > 25, len(every)
    async with emulator.async_client() as client:
        export = client.export_conversations(**opts)
        got, pages = [], []
        async for conv in export:
            got.append(conv.id)
            assert export.stats["conversations"] == len(got), (len(got), export.stats)
            pages.append(export.stats["pages"])
        # Part of a page handed out, then the rest written: nothing lost, nothing twice.
        export = client.export_conversations(**opts)
        first = []
        async for conv in export:
            first.append(conv.id)
            if len(first) == 15:
                break
        stats = await export.awrite_jsonl(tmp_path / "rest.jsonl")
    assert got == every
    assert pages == [i // 10 + 1 for i in range(len(every))]
    assert first + [r["id"] for r in lines(tmp_path / "rest.jsonl")] == every
    assert stats["conversations"] == len(every)


@pytest.mark.emulator(conversations=60)
async def test_a_read_cancelled_after_its_conversation_came_puts_it_back(emulator: Emulator, tmp_path: Path) -> None:
    # The native read had handed the conversation out; the cancelled future dropped it: lost.
    opts: dict = {"folders": ["inbox"], "page_size": 10, **UNPACED}
    with emulator.client() as client:
        every = [c.id for c in client.export_conversations(**opts)]
    async with emulator.async_client() as client:
        for rest in ("iterated", "written"):
            export = client.export_conversations(**opts)
            emulator.inject_fault({"match": {"method": "GET", "path_contains": "conversations"}, "count": 1,
                                   "action": {"type": "delay", "ms": 200}})
            walk = export.__aiter__()
            task = asyncio.ensure_future(walk.__anext__())
            await asyncio.sleep(0)
            time.sleep(0.8)  # the loop is busy while the conversation comes
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert export.stats["conversations"] == 0, "the stats count what Python received"
            if rest == "iterated":
                got = [c.id async for c in export]
            else:
                await export.awrite_jsonl(tmp_path / "rest.jsonl")
                got = [r["id"] for r in lines(tmp_path / "rest.jsonl")]
            assert got == every, rest
            assert export.stats["conversations"] == len(every)


def test_an_export_is_walked_once_and_arguments_are_checked_first(emulator: Emulator, tmp_path: Path) -> None:
    with emulator.client() as client:
        export = client.export_conversations(**UNPACED)
        export.write_jsonl(tmp_path / "a.jsonl")
        with pytest.raises(RuntimeError, match="already"):
            export.write_jsonl(tmp_path / "b.jsonl")
        emulator.clear_request_log()
        with pytest.raises(ValueError, match="messages"):
            client.export_conversations(messages=21)
        with pytest.raises(ValueError, match="max_calls_per_second"):
            client.export_conversations(max_calls_per_second=0)
        with pytest.raises(ValueError, match="folder"):
            client.export_conversations(folders=["attic"])
        with pytest.raises(TypeError, match="folders"):
            client.export_conversations(folders="inbox")  # type: ignore[arg-type]
        assert emulator.request_log() == []


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_misuse_is_refused_and_nothing_is_overwritten(emulator: Emulator, tmp_path: Path) -> None:
    out, cp = tmp_path / "out.jsonl", tmp_path / "cp.json"
    with emulator.client() as client:
        client.export_conversations(checkpoint=cp, **UNPACED).write_jsonl(out)
        before = (out.read_bytes(), cp.read_bytes())

        with pytest.raises(ValueError, match="other arguments"):
            client.export_conversations(checkpoint=cp, messages=3, **UNPACED).write_jsonl(out)
        with pytest.raises(ValueError, match="belongs to the output"):
            client.export_conversations(checkpoint=cp, **UNPACED).write_jsonl(tmp_path / "other.jsonl")
        assert not (tmp_path / "other.jsonl").exists()

        out.write_bytes(b'{"id": "not ours"}\n' + before[0])
        with pytest.raises(ValueError, match="not the file this checkpoint wrote"):
            client.export_conversations(checkpoint=cp, **UNPACED).write_jsonl(out)
        assert out.read_bytes().startswith(b'{"id": "not ours"}')
        out.write_bytes(before[0])

        cp.write_text("{ torn")
        with pytest.raises(ValueError, match="not a readable export checkpoint"):
            client.export_conversations(checkpoint=cp, **UNPACED).write_jsonl(out)
        assert out.read_bytes() == before[0] and cp.read_text() == "{ torn"

        cp.unlink()
        with pytest.raises(ValueError, match="is not empty"):
            client.export_conversations(checkpoint=cp, **UNPACED).write_jsonl(out)
        assert out.read_bytes() == before[0]


CHILD = r"""
import os, sys
from messenger_handover import Client
client = Client(os.environ["MH_TOKEN"], base_url=os.environ["MH_URL"], page_id=os.environ["MH_PAGE"])
export = client.export_conversations(messages=3, page_size=4, checkpoint=sys.argv[2],
                                     max_calls_per_second=float(sys.argv[3]), progress=False)
export.write_jsonl(sys.argv[1])
"""


@pytest.mark.emulator(conversations=300)
def test_sigkilled_again_and_again_the_jsonl_export_ends_complete(emulator: Emulator, tmp_path: Path) -> None:
    """The hard resume: a child writes the export with a checkpoint and is
    SIGKILLed at 20+ random points, restarted each time; the file ends with
    exactly the uninterrupted export's lines, none twice, none partial."""
    with emulator.client() as client:
        reference = client.export_conversations(messages=3, page_size=4, **UNPACED)
        reference.write_jsonl(tmp_path / "reference.jsonl")
    expected = {json.dumps(r, sort_keys=True) for r in lines(tmp_path / "reference.jsonl")}
    assert len(expected) > 200

    out, cp = tmp_path / "out.jsonl", tmp_path / "cp.json"
    env = dict(os.environ, MH_TOKEN=emulator.primary.token, MH_URL=emulator.url, MH_PAGE=emulator.page_id)
    argv = [sys.executable, "-c", CHILD, str(out), str(cp)]
    rng = random.Random(12)
    kills, runs, deadline, sizes = 0, 0, time.monotonic() + 90, []
    while True:
        assert time.monotonic() < deadline, f"no end after {runs} runs"
        runs += 1
        # Killed runs are paced (slow enough to be caught mid-walk); the last one is not.
        rate = "8" if kills < 22 else "1000"
        child = subprocess.Popen(argv + [rate], env=env, stderr=subprocess.PIPE)
        if kills < 22:
            time.sleep(rng.uniform(0.2, 0.7))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
                sizes.append(out.stat().st_size if out.exists() else 0)
                continue
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
        break
    assert kills >= 20
    final = out.stat().st_size
    assert len([s for s in sizes if 0 < s < final]) >= 10, f"killed mid-walk, not before or after: {sizes}"

    got = [json.dumps(r, sort_keys=True) for r in lines(out)]
    assert len(got) == len(set(got)), "no line twice"
    assert set(got) == expected, "every conversation, as the uninterrupted export wrote it"


# ---------------------------------------------------------------- DataFrames


@pytest.mark.emulator(conversations=40)
def test_to_pandas_columns_and_dtypes(emulator: Emulator) -> None:
    pd = pytest.importorskip("pandas")
    with emulator.client() as client:
        df = client.export_conversations(messages=3, **UNPACED).to_pandas()
        convs = client.export_conversations(messages=3, **UNPACED).to_list()
    assert list(df["id"]) == [c.id for c in convs]
    assert {"id", "folder", "platform", "updated_time", "customer_id", "customer_name", "participant_ids",
            "message_count", "last_message_text", "messages"} <= set(df.columns)
    assert isinstance(df["updated_time"].dtype, pd.DatetimeTZDtype) and str(df["updated_time"].dt.tz) == "UTC"
    assert isinstance(df["last_message_time"].dtype, pd.DatetimeTZDtype)
    assert str(df["message_count"].dtype) == "Int64" and str(df["can_reply"].dtype) == "boolean"
    assert str(df["folder"].dtype) == "string"
    # The customer is the participant that is not the Page.
    assert (df["customer_id"] != emulator.page_id).all()
    assert all(emulator.page_id in ids for ids in df["participant_ids"])
    assert all(len(m) == 3 for m in df["messages"]) and df["last_message_text"].notna().all()
    assert df.groupby("folder").size().sum() == len(convs)


@pytest.mark.emulator(conversations=30)
def test_to_arrow_and_write_parquet(emulator: Emulator, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    with emulator.client() as client:
        table = client.export_conversations(messages=2, **UNPACED).to_arrow()
        client.export_conversations(messages=2, **UNPACED).write_parquet(tmp_path / "inbox.parquet")
    assert table.schema.field("updated_time").type == pa.timestamp("us", tz="UTC")
    assert table.num_rows > 0 and pq.read_table(tmp_path / "inbox.parquet").equals(table)


def test_without_pandas_the_import_error_names_the_extra(emulator: Emulator, monkeypatch: Any) -> None:
    # None in sys.modules makes any import of the module fail, as if not installed.
    for name in ("pandas", "pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)
    with emulator.client() as client:
        with pytest.raises(ImportError, match=r'pip install "messenger-handover\[pandas\]"'):
            client.export_conversations(**UNPACED).to_pandas()
        with pytest.raises(ImportError, match=r'pip install "messenger-handover\[arrow\]"'):
            client.export_conversations(**UNPACED).to_arrow()
        with pytest.raises(ImportError, match=r"\[arrow\]"):
            client.export_conversations(**UNPACED).write_parquet("never.parquet")


def test_progress_bar_on_request_and_silent_by_default_off_a_terminal(emulator: Emulator, capsys: Any) -> None:
    pytest.importorskip("tqdm")
    with emulator.client() as client:
        n = len(client.export_conversations(progress=True, **UNPACED).to_list())
        assert f"{n}" in capsys.readouterr().err
        client.export_conversations(**UNPACED).to_list()  # pytest's stderr is no terminal
        client.export_conversations(progress=False, **UNPACED).to_list()
        assert capsys.readouterr().err == ""


@pytest.mark.emulator(conversations=120)
def test_a_rate_limit_mid_walk_stops_the_jsonl_export_and_a_rerun_completes_it(emulator: Emulator, tmp_path: Path) -> None:
    import threading

    from messenger_handover import RateLimitError

    with emulator.client() as client:
        client.export_conversations(page_size=5, **UNPACED).write_jsonl(tmp_path / "reference.jsonl")
    expected = lines(tmp_path / "reference.jsonl")
    out, cp = tmp_path / "out.jsonl", tmp_path / "cp.json"
    failure: List[BaseException] = []

    def paced_run() -> None:
        try:
            with emulator.client(max_retries=0) as client:
                client.export_conversations(page_size=5, checkpoint=cp, max_calls_per_second=10).write_jsonl(out)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            failure.append(e)

    worker = threading.Thread(target=paced_run)
    worker.start()
    time.sleep(0.8)  # some pages in: then Graph says "rate limited" (613)
    error = {"message": "(#613) Calls to this api have exceeded the rate limit.", "type": "OAuthException", "code": 613}
    emulator.inject_fault({"match": {"path_contains": "conversations"}, "action": {"type": "graph_error", "status": 400, "error": error}})
    worker.join(60)
    assert failure and isinstance(failure[0], RateLimitError), failure
    partial = lines(out)
    assert 0 < len(partial) < len(expected), "stopped mid-walk; what was read is committed"
    with emulator.client() as client:
        stats = client.export_conversations(page_size=5, checkpoint=cp, **UNPACED).write_jsonl(out)
    assert lines(out) == expected and stats["conversations"] == len(expected)
