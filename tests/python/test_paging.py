"""Paging: to the end, breaking early, resuming from `.after`, page by page."""

from __future__ import annotations

import asyncio
import time

import pytest

from messenger_handover import Conversation, Folder, Page, Platform
from messenger_handover.testing import Emulator

pytestmark = pytest.mark.emulator(conversations=500)


def conversation_requests(emu: Emulator) -> list:
    return [e for e in emu.request_log() if e["path"].endswith("/conversations")]


def test_sync_to_the_end(emulator: Emulator) -> None:
    with emulator.client() as client:
        pager = client.conversations(folder=Folder.INBOX)
        items = list(pager)
        assert pager.finished
        assert pager.after is not None
    assert len(items) > 100
    assert all(isinstance(c, Conversation) for c in items)
    assert len({c.id for c in items}) == len(items)
    times = [c.updated_time for c in items]
    assert all(t is not None and t.tzinfo is not None for t in times)
    # Never follows the `next` URL (it carries the token): cursors only.
    for entry in conversation_requests(emulator):
        assert "access_token" not in entry["query"]


def test_plain_strings_and_enums_are_the_same(emulator: Emulator) -> None:
    with emulator.client() as client:
        a = [c.id for c in client.conversations(folder="spam", platform="messenger")]
        b = [c.id for c in client.conversations(folder=Folder.SPAM, platform=Platform.MESSENGER)]
    assert a == b and a


def wait_for_requests(emu: Emulator, n: int) -> list:
    deadline = time.monotonic() + 10  # generous: a loaded CI box
    while len(conversation_requests(emu)) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return conversation_requests(emu)


def test_the_next_page_is_prefetched_before_it_is_asked_for(emulator: Emulator) -> None:
    with emulator.client() as client:
        pager = client.conversations(page_size=10)
        page = pager.next_page()
        assert page is not None and page.has_next and page.after
        # Page two is requested while the caller still holds page one.
        reqs = wait_for_requests(emulator, 2)
        assert len(reqs) == 2, reqs
        assert "after" not in reqs[0]["query"] and reqs[1]["query"]["after"] == page.after
        time.sleep(0.3)
        assert len(conversation_requests(emulator)) == 2, "one page ahead, never two"
        second = pager.next_page()  # served by the prefetch: nothing more is sent for it...
        assert second is not None and [c.id for c in second.items]
        reqs = wait_for_requests(emulator, 3)  # ...and page three is prefetched in turn
        assert len(reqs) == 3 and reqs[2]["query"]["after"] == second.after


async def test_a_landed_page_is_handed_over_without_suspending(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        everything = [c.id for c in await client.conversations(page_size=10).to_list()]
        emulator.clear_request_log()
        pager = client.conversations(page_size=10)
        first = await pager.next_page()
        assert first is not None
        wait_for_requests(emulator, 2)
        time.sleep(0.3)  # the prefetched page lands meanwhile
        # No await inside: the coroutine ends at its first step.
        step = pager.next_page().__await__()
        with pytest.raises(StopIteration) as done:
            next(step)
        second = done.value.value
        assert second is not None
        assert [c.id for c in first.items + second.items] == everything[:20]
        # Page three was prefetched in turn, and `after` counts the ready page.
        assert len(wait_for_requests(emulator, 3)) == 3
        rest = [c.id async for c in client.conversations(page_size=10, after=pager.after)]
        assert rest == everything[20:]


def test_break_early_stops_fetching(emulator: Emulator) -> None:
    with emulator.client() as client:
        pager = client.conversations(page_size=10)
        for i, _conv in enumerate(pager):
            if i == 2:
                break
        # The page being read, and the one prefetched while we looked at it.
        assert len(wait_for_requests(emulator, 2)) == 2
        time.sleep(0.3)
    assert len(conversation_requests(emulator)) == 2, "nothing more after the break"


def test_pages_and_resume(emulator: Emulator) -> None:
    with emulator.client() as client:
        everything = [c.id for c in client.conversations(page_size=20)]
        pager = client.conversations(page_size=20)
        first: list = []
        for n, page in enumerate(pager.pages()):
            assert isinstance(page, Page)
            assert len(page) == len(page.items) <= 20
            assert page.has_next
            first.extend(c.id for c in page.items)
            if n == 1:
                break
        cursor = pager.after
        assert cursor is not None
        rest = [c.id for c in client.conversations(page_size=20, after=cursor)]
    assert first + rest == everything


def test_fields_page_size_and_raw(emulator: Emulator) -> None:
    with emulator.client() as client:
        page = client.conversations(fields=["id", "snippet", "participants", "link"], page_size=3).next_page()
    assert page is not None and len(page.items) == 3
    conv = page.items[0]
    assert conv.snippet and conv.link and conv.participants
    assert conv.raw["id"] == conv.id
    assert isinstance(conv.raw["participants"]["data"], list)
    raw = conv.raw
    raw["id"] = "changed"
    assert conv.raw["id"] == conv.id  # raw is a fresh dict: the conversation stays immutable
    d = conv.to_dict()
    assert d["id"] == conv.id and d["participants"][0]["id"] == conv.participants[0].id
    assert "Conversation(id=" in repr(conv)
    query = conversation_requests(emulator)[0]["query"]
    assert query["fields"] == "id,snippet,participants,link" and query["limit"] == "3"


def test_a_conversation_outlives_its_page_and_compares_by_value(emulator: Emulator) -> None:
    # A page's conversations share its core items (issue 14): one kept after the
    # page and its siblings are gone still reads the same, and equality is by value.
    import gc

    with emulator.client() as client:
        page = client.conversations(page_size=5).next_page()
        assert page is not None and len(page) == 5
        kept, sibling = page.items[3], page.items[2]
        expected = (kept.id, kept.updated_time, kept.snippet, kept.raw, kept.to_dict())
        del page
        gc.collect()
        assert sum(1 for _ in client.conversations(page_size=50)) > 100  # more pages freed meanwhile
        again = client.conversations(page_size=2).to_list(limit=4)[3]
    assert (kept.id, kept.updated_time, kept.snippet, kept.raw, kept.to_dict()) == expected
    assert again == kept and again is not kept and kept != sibling


def test_user_id_filter(emulator: Emulator) -> None:
    with emulator.client() as client:
        conv = client.conversations(fields=["participants"], page_size=1).next_page().items[0]  # type: ignore[union-attr]
        user = conv.participants[0].id
        found = client.conversations(user_id=user, fields=["participants"]).to_list()
    assert found and all(any(p.id == user for p in c.participants) for c in found)


async def test_async_to_the_end_break_and_resume(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        everything = [c.id async for c in client.conversations(folder="other", page_size=10)]
        assert len(everything) > 20
        pager = client.conversations(folder="other", page_size=10)
        head = []
        async for page in pager.pages():
            head.extend(c.id for c in page.items)
            break
        rest = await client.conversations(folder="other", page_size=10, after=pager.after).to_list()
        assert head + [c.id for c in rest] == everything
        emulator.clear_request_log()
        pager = client.conversations(page_size=5)
        async for _ in pager:
            break
        deadline = time.monotonic() + 10
        while len(conversation_requests(emulator)) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
    assert len(conversation_requests(emulator)) == 2, "the page read and the one prefetched, nothing more"
