"""Paging: to the end, breaking early, resuming from `.after`, page by page."""

from __future__ import annotations

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


def test_break_early_stops_fetching(emulator: Emulator) -> None:
    with emulator.client() as client:
        for i, _conv in enumerate(client.conversations(page_size=10)):
            if i == 2:
                break
    # The first page, and at most the one prefetched while we looked at it.
    assert 1 <= len(conversation_requests(emulator)) <= 2


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
        async for _ in client.conversations(page_size=5):
            break
    assert 1 <= len(conversation_requests(emulator)) <= 2
