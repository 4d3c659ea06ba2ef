"""Bad arguments raise ValueError/TypeError naming the argument, and nothing is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, List

import pytest

from messenger_handover import AsyncClient, Client, HandoverError
from messenger_handover.testing import Emulator

BAD_IDS = ["", "1/2", "1?x=1", "a#b", "a&b", "a b", "a\nb", "a\x00b", "%2F"]


def refused(emu: Emulator, exc: type, argument: str, fn: Callable[[], Any]) -> None:
    with pytest.raises(exc) as info:
        fn()
    assert not isinstance(info.value, HandoverError)
    assert argument in str(info.value)
    if exc is ValueError and hasattr(info.value, "argument"):
        assert info.value.argument == argument  # type: ignore[attr-defined]
    assert emu.request_log() == [], "nothing may be sent"


@pytest.mark.parametrize("psid", BAD_IDS)
def test_bad_psid_everywhere(emulator: Emulator, psid: str) -> None:
    c = emulator.client()
    for call in (
        lambda: c.thread_owner(psid),
        lambda: c.pass_thread_control(psid, "263902037430900"),
        lambda: c.pass_thread_control_to_page_inbox(psid),
        lambda: c.take_thread_control(psid),
        lambda: c.request_thread_control(psid),
        lambda: c.release_thread_control(psid),
        lambda: c.extend_thread_control(psid, 60),
    ):
        refused(emulator, ValueError, "psid", call)


def test_bad_values(emulator: Emulator) -> None:
    c = emulator.client()
    refused(emulator, ValueError, "target_app_id", lambda: c.pass_thread_control("1", "12a"))
    refused(emulator, ValueError, "target_app_id", lambda: c.pass_thread_control("1", ""))
    refused(emulator, ValueError, "metadata", lambda: c.take_thread_control("1", "x" * 1001))
    refused(emulator, ValueError, "metadata", lambda: c.take_thread_control("1", "x" * 3_000_000))
    for d in (0, -1, 604_801, 10**30, timedelta(days=8), timedelta(seconds=-5)):
        refused(emulator, ValueError, "duration", lambda d=d: c.extend_thread_control("1", d))  # type: ignore[misc]
    refused(emulator, ValueError, "duration", lambda: c.extend_thread_control("1", timedelta(seconds=1.5)))
    refused(emulator, ValueError, "folder", lambda: c.conversations(folder="archive"))
    refused(emulator, ValueError, "platform", lambda: c.conversations(platform="whatsapp"))
    refused(emulator, ValueError, "page_size", lambda: c.conversations(page_size=0))
    refused(emulator, ValueError, "page_size", lambda: c.conversations(page_size=101))
    refused(emulator, ValueError, "page_size", lambda: c.conversations(page_size=-3))
    refused(emulator, ValueError, "user_id", lambda: c.conversations(user_id="1/2"))
    refused(emulator, ValueError, "fields", lambda: c.conversations(fields=["id", "a&b"]))
    refused(emulator, ValueError, "tags", lambda: c.conversations(tags=["x y"]))
    refused(emulator, ValueError, "after", lambda: c.conversations(after="a b"))


def test_wrong_types(emulator: Emulator) -> None:
    c = emulator.client()
    refused(emulator, TypeError, "psid", lambda: c.thread_owner(123))  # type: ignore[arg-type]
    refused(emulator, TypeError, "psid", lambda: c.thread_owner(None))  # type: ignore[arg-type]
    refused(emulator, TypeError, "metadata", lambda: c.take_thread_control("1", {"a": 1}))  # type: ignore[arg-type]
    refused(emulator, TypeError, "duration", lambda: c.extend_thread_control("1", 1.5))  # type: ignore[arg-type]
    refused(emulator, TypeError, "duration", lambda: c.extend_thread_control("1", "60"))  # type: ignore[arg-type]
    refused(emulator, TypeError, "folder", lambda: c.conversations(folder=3))  # type: ignore[arg-type]
    refused(emulator, TypeError, "tags", lambda: c.conversations(tags="vip"))
    refused(emulator, TypeError, "fields", lambda: c.conversations(fields=[1]))  # type: ignore[list-item]
    refused(emulator, TypeError, "page_size", lambda: c.conversations(page_size="10"))  # type: ignore[arg-type]


def test_values_that_contain_themselves_or_nest_too_deep_are_refused() -> None:
    # A Rust recursion over them overflowed the stack: a segfault.
    loop: list = []
    loop.append(loop)
    deep: dict = {}
    cur = deep
    for _ in range(10_000):
        cur["a"] = {}
        cur = cur["a"]
    client = Client("EAAtoken", page_id="1", base_url="http://127.0.0.1:9")
    for value in (loop, deep):
        with pytest.raises(ValueError, match="levels deep"):
            client.batch([{"op": "thread_owner", "psid": value}])
    with Emulator() as emu:
        with pytest.raises(ValueError, match="levels deep"):
            emu.inject_fault(deep)


def test_a_lone_surrogate_is_refused_without_keeping_the_value() -> None:
    # pyo3's UnicodeEncodeError kept the whole string (a token, a secret) in its args.
    from messenger_handover import webhooks

    bad = "EAAGsecret\ud800"
    client = Client("EAAtoken", page_id="1", base_url="http://127.0.0.1:9")
    calls: List[Callable[[], Any]] = [
        lambda: Client(bad),
        lambda: client.thread_owner(bad),
        lambda: client.take_thread_control("1", metadata=bad),
        lambda: client.thread_owners(["1", bad]),
        lambda: client.batch([{"op": "thread_owner", "psid": bad}]),
        lambda: client.conversations(fields=["id", bad]),
        lambda: webhooks.sign(bad, b"{}"),
        lambda: webhooks.verify_signature(bad, b"{}", "sha256=00"),
        lambda: webhooks.WebhookHandler(app_secret=bad, verify_token="v"),
        lambda: webhooks.verify_subscription({"hub.mode": "subscribe"}, bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="lone surrogate") as info:
            call()
        assert "EAAGsecret" not in repr(info.value.args) + repr(vars(info.value))


def test_arguments_without_a_default_or_out_of_float_range_name_themselves(emulator: Emulator) -> None:
    client = emulator.client()
    before = len(emulator.request_log())
    for call, argument in (
        (lambda: client.thread_owners(None), "psids"),  # was [] without a word
        (lambda: client.thread_owners(5), "psids"),
        (lambda: client.batch(None), "operations"),
        (lambda: client.batch(5), "operations"),
    ):
        with pytest.raises(TypeError, match=argument):
            call()
    with pytest.raises(ValueError, match="max_calls_per_second"):
        client.export_conversations(max_calls_per_second=2**2000)
    assert len(emulator.request_log()) == before


def test_bad_construction() -> None:
    with pytest.raises(ValueError, match="access_token"):
        Client("")
    with pytest.raises(TypeError, match="access_token"):
        Client(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="page_id"):
        Client("tok", page_id="a/b")
    with pytest.raises(ValueError, match="api_version"):
        Client("tok", api_version="26")
    with pytest.raises(ValueError, match="timeout"):
        Client("tok", timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        Client("tok", timeout=0)
    with pytest.raises(ValueError, match="base_url"):
        Client("tok", base_url="http://graph.example.com")  # plain http only to loopback
    with pytest.raises(ValueError, match="base_url"):
        AsyncClient("tok", base_url="not a url")
    Client("tok", base_url="http://localhost:1")


async def test_async_bad_input_sends_nothing(emulator: Emulator) -> None:
    async with emulator.async_client() as c:
        with pytest.raises(ValueError, match="psid"):
            await c.thread_owner("")
        with pytest.raises(ValueError, match="duration"):
            await c.extend_thread_control("1", 0)
    assert emulator.request_log() == []
