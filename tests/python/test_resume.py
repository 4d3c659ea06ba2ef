"""Resuming is exact to the item (issue 11, item 1): after N items handed out,
resuming from ``pager.after`` yields item N+1 next, even mid-page."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from messenger_handover import ProtocolError
from messenger_handover.testing import Emulator

pytestmark = pytest.mark.emulator(conversations=600)


def everything(client) -> list:
    return [c.id for c in client.conversations(page_size=100)]


@pytest.mark.parametrize("stop", [1, 99, 100, 101, 150, 250])
def test_sync_break_mid_page_and_resume(emulator: Emulator, stop: int) -> None:
    with emulator.client() as client:
        all_ids = everything(client)
        assert len(all_ids) > 250
        pager = client.conversations(page_size=100)
        first = []
        for conv in pager:
            first.append(conv.id)
            if len(first) == stop:
                break
        rest = [c.id for c in client.conversations(page_size=100, after=pager.after)]
    assert first + rest == all_ids, "nothing lost, nothing doubled"


def test_async_break_after_150_and_resume(emulator: Emulator) -> None:
    async def run() -> tuple:
        async with emulator.async_client() as client:
            all_ids = [c.id async for c in client.conversations(page_size=100)]
            pager = client.conversations(page_size=100)
            first = []
            async for conv in pager:
                first.append(conv.id)
                if len(first) == 150:
                    break
            rest = [c.id async for c in client.conversations(page_size=100, after=pager.after)]
            return all_ids, first, rest

    all_ids, first, rest = asyncio.run(run())
    assert first + rest == all_ids


def test_page_by_page_and_resume(emulator: Emulator) -> None:
    with emulator.client() as client:
        all_ids = everything(client)
        pager = client.conversations(page_size=100)
        first = []
        for page in pager.pages():
            first.extend(c.id for c in page.items)
            break
        after_page = pager.after
        rest = [c.id for c in client.conversations(page_size=100, after=after_page)]
        assert first + rest == all_ids
        # Item iteration after a page: the point moves item by item again.
        pager = client.conversations(page_size=100)
        first = [c.id for c in pager.next_page().items]
        for conv in pager:
            first.append(conv.id)
            if len(first) == 150:
                break
        rest = [c.id for c in client.conversations(page_size=100, after=pager.after)]
    assert first + rest == all_ids


def _runaway(emulator: Emulator, bodies: list) -> None:
    for body in bodies:
        emulator.inject_fault({"match": {"path_contains": "/conversations"},
                               "action": {"type": "status", "status": 200, "body": json.dumps(body)}})


@pytest.mark.parametrize("limit", [1, 3, 99, 100, 101])
async def test_to_list_then_resume(emulator: Emulator, limit: int) -> None:
    # The item after the last one wanted was counted as handed out: resuming skipped it.
    with emulator.client() as client:
        all_ids = everything(client)
        pager = client.conversations(page_size=100)
        got = [c.id for c in pager.to_list(limit=limit)]
        rest = [c.id for c in client.conversations(page_size=100, after=pager.after).to_list(limit=5)]
        assert got + rest == all_ids[: limit + 5]
    async with emulator.async_client() as aclient:
        apager = aclient.conversations(page_size=100)
        got = [c.id for c in await apager.to_list(limit=limit)]
        rest = [c.id for c in await aclient.conversations(page_size=100, after=apager.after).to_list(limit=5)]
        assert got + rest == all_ids[: limit + 5]


async def test_a_second_loop_over_a_pager_continues_where_the_first_stopped(emulator: Emulator) -> None:
    # The rest of the page lived in the first loop only: a second one skipped it.
    with emulator.client() as client:
        all_ids = everything(client)
        pager = client.conversations(page_size=10)
        got = []
        for stop in (3, 10, 11, 25):
            for conv in pager:
                got.append(conv.id)
                if len(got) == stop:
                    break
            assert got == all_ids[:stop]
            resumed = client.conversations(page_size=10, after=pager.after).to_list(limit=1)
            assert [c.id for c in resumed] == all_ids[stop : stop + 1]
        # A whole page asked for skips what the loop left of its page, and says so in `after`.
        page = pager.next_page()
        assert page is not None and [c.id for c in page.items] == all_ids[30:40]
        assert [c.id for c in client.conversations(page_size=10, after=pager.after).to_list(limit=1)] == all_ids[40:41]
        assert [c.id for c in pager.to_list(limit=2)] == all_ids[40:42]
    async with emulator.async_client() as aclient:
        apager = aclient.conversations(page_size=10)
        agot = []
        for stop in (3, 10, 11, 25):
            async for conv in apager:
                agot.append(conv.id)
                if len(agot) == stop:
                    break
        assert agot == all_ids[:25]
        assert [c.id for c in await apager.to_list(limit=3)] == all_ids[25:28]


async def test_a_read_cancelled_after_its_page_came_gives_the_page_back(emulator: Emulator) -> None:
    # The native read had handed the page out; the cancelled future dropped it: lost.
    with emulator.client() as client:
        all_ids = everything(client)
    async with emulator.async_client() as aclient:
        emulator.inject_fault({"match": {"method": "GET", "path_contains": "conversations"}, "count": 1,
                               "action": {"type": "delay", "ms": 200}})
        pager = aclient.conversations(page_size=100)
        task = asyncio.ensure_future(pager.next_page())
        await asyncio.sleep(0)
        time.sleep(0.8)  # the loop is busy while the page comes
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pager.after is None, "the resume point stays before the page nobody got"
        page = await pager.next_page()
        assert page is not None and [c.id for c in page.items] == all_ids[:100]
        assert [c.id for c in await pager.to_list(limit=3)] == all_ids[100:103]


def test_to_list_limit_is_checked_before_sending(emulator: Emulator) -> None:
    with emulator.client() as client:
        before = len(emulator.request_log())
        assert client.conversations().to_list(limit=0) == []
        with pytest.raises(ValueError, match="limit"):
            client.conversations().to_list(limit=-1)
        for bad in ("3", 1.5, True):
            with pytest.raises(TypeError, match="limit"):
                client.conversations().to_list(limit=bad)  # type: ignore[arg-type]
        assert len(emulator.request_log()) == before


def test_a_repeated_cursor_stops_with_protocol(emulator: Emulator) -> None:
    """Issue 11, item 7: the same cursor with `next` forever."""
    page = {"data": [{"id": "t_1"}], "paging": {"cursors": {"after": "SAME"}, "next": "https://x/next"}}
    _runaway(emulator, [page] * 50)
    with emulator.client() as client:
        with pytest.raises(ProtocolError):
            for _ in client.conversations():
                pass
    assert len([e for e in emulator.request_log() if e["path"].endswith("/conversations")]) <= 3


def test_endless_empty_pages_stop_with_protocol(emulator: Emulator) -> None:
    """Issue 11, item 7: empty pages with a fresh cursor and `next` forever."""
    pages = [{"data": [], "paging": {"cursors": {"after": f"C{i}"}, "next": "https://x/next"}} for i in range(50)]
    _runaway(emulator, pages)
    with emulator.client() as client:
        with pytest.raises(ProtocolError):
            list(client.conversations())
    assert len([e for e in emulator.request_log() if e["path"].endswith("/conversations")]) <= 12
