"""Resuming is exact to the item (issue 11, item 1): after N items handed out,
resuming from ``pager.after`` yields item N+1 next, even mid-page."""

from __future__ import annotations

import asyncio

import pytest

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
