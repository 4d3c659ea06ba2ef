"""Every operation on both clients, against the emulator over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import messenger_handover as mh

from messenger_handover import PAGE_INBOX_APP_ID, App, AsyncClient, Client, ThreadOwner
from messenger_handover.testing import Emulator

PSID = "1234567890"


def owner_role(emu: Emulator, psid: str = PSID) -> str:
    return emu.state()["threads"][psid]["owner_role"]


def test_plugin_fixture_gives_a_running_emulator(emulator: Emulator) -> None:
    assert emulator.running
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.page_id.isdigit()
    assert emulator.primary.app_id != emulator.secondary.app_id
    assert emulator.page_inbox.app_id == PAGE_INBOX_APP_ID


async def test_without_a_token_it_comes_from_page_access_token(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    assert mh.ACCESS_TOKEN_ENV == "PAGE_ACCESS_TOKEN"
    monkeypatch.setenv("PAGE_ACCESS_TOKEN", emulator.primary.token)
    with Client(page_id=emulator.page_id, base_url=emulator.url) as client:
        async with AsyncClient(page_id=emulator.page_id, base_url=emulator.url) as aclient:
            monkeypatch.delenv("PAGE_ACCESS_TOKEN")  # read at construction
            client.thread_owner(PSID)
            await aclient.thread_owner(PSID)
    for value in (None, ""):
        if value is None:
            monkeypatch.delenv("PAGE_ACCESS_TOKEN", raising=False)
        else:
            monkeypatch.setenv("PAGE_ACCESS_TOKEN", value)
        for cls in (Client, AsyncClient):
            with pytest.raises(TypeError, match="PAGE_ACCESS_TOKEN"):
                cls()
    # A token given wins over the variable.
    monkeypatch.setenv("PAGE_ACCESS_TOKEN", "EAAGnot-this-one")
    with Client(emulator.primary.token, page_id=emulator.page_id, base_url=emulator.url) as client:
        client.thread_owner(PSID)


def test_sync_every_operation(emulator: Emulator) -> None:
    with emulator.client() as client:
        assert isinstance(client, Client)
        owner = client.thread_owner(PSID)
        assert owner == ThreadOwner(emulator.primary.app_id)
        assert owner is not None and owner.expiration is None
        assert owner.to_dict() == {"app_id": emulator.primary.app_id, "expiration": None}

        client.pass_thread_control_to_page_inbox(PSID, metadata="human please")
        assert owner_role(emulator) == "page_inbox"
        client.request_thread_control(PSID, metadata="give it back")
        assert emulator.state()["pending_requests"][0]["requested_owner_app_id"] == emulator.primary.app_id
        client.take_thread_control(PSID, metadata="taking back")
        assert owner_role(emulator) == "primary"
        client.pass_thread_control(PSID, emulator.secondary.app_id)
        assert owner_role(emulator) == "secondary"
        with emulator.client("secondary") as secondary:
            secondary.release_thread_control(PSID, metadata="done")
        assert owner_role(emulator) == "primary"
        client.release_thread_control(PSID)

        apps = client.secondary_receivers()
        assert [a.id for a in apps] == [emulator.secondary.app_id, PAGE_INBOX_APP_ID]
        assert all(isinstance(a, App) and a.name for a in apps)
        assert apps[0] == App(apps[0].id, apps[0].name)

    # Every call went out with the token in a header, never in the URL.
    log = emulator.request_log()
    assert len(log) >= 8
    assert all(entry["auth"] == "header" and not entry["token_in_query"] for entry in log)


async def test_async_every_operation(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        assert isinstance(client, AsyncClient)
        owner = await client.thread_owner(PSID)
        assert owner is not None and owner.app_id == emulator.primary.app_id
        await client.pass_thread_control_to_page_inbox(PSID)
        assert owner_role(emulator) == "page_inbox"
        await client.request_thread_control(PSID)
        await client.take_thread_control(PSID)
        assert owner_role(emulator) == "primary"
        await client.pass_thread_control(PSID, emulator.secondary.app_id, "to the secondary")
        async with emulator.async_client("secondary") as secondary:
            await secondary.release_thread_control(PSID)
        assert owner_role(emulator) == "primary"
        await client.release_thread_control(PSID, metadata="x")
        apps = await client.secondary_receivers()
        assert {a.id for a in apps} == {emulator.secondary.app_id, PAGE_INBOX_APP_ID}


def test_routing_mode_idle_and_extend(routing_emulator: Emulator) -> None:
    emu = routing_emulator
    with emu.client() as client:
        assert client.thread_owner(PSID) is None  # idle thread: data: []
        client.take_thread_control(PSID)
        owner = client.thread_owner(PSID)
        assert owner is not None and owner.expiration is not None
        assert owner.expiration.tzinfo is not None
        assert owner.expiration.utcoffset() == timedelta(0)
        client.extend_thread_control(PSID, 3600)
        one_hour = client.thread_owner(PSID)
        assert one_hour is not None and one_hour.expiration is not None
        assert abs(one_hour.expiration - (datetime.now(timezone.utc) + timedelta(hours=1))) < timedelta(seconds=30)
        client.extend_thread_control(PSID, timedelta(days=2))
        two_days = client.thread_owner(PSID)
        assert two_days is not None and two_days.expiration is not None
        assert two_days.expiration > one_hour.expiration
        client.release_thread_control(PSID)
        assert client.thread_owner(PSID) is None
    body = [e["body"] for e in emu.request_log() if e["path"].endswith("extend_thread_control")]
    assert [b["duration"] for b in body] == [3600, 172800]


async def test_async_extend(routing_emulator: Emulator) -> None:
    async with routing_emulator.async_client() as client:
        await client.take_thread_control(PSID)
        await client.extend_thread_control(PSID, timedelta(minutes=5))
        owner = await client.thread_owner(PSID)
        assert owner is not None and owner.expiration is not None


def test_repr_and_properties(emulator: Emulator) -> None:
    client = emulator.client()
    text = repr(client)
    assert text == f"Client(page_id={emulator.page_id!r}, base_url={emulator.url!r}, api_version='v26.0')"
    assert emulator.primary.token not in text
    assert client.page_id == emulator.page_id and client.api_version == "v26.0"
    assert not client.closed
    client.close()
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        client.thread_owner(PSID)


def test_last_usage(emulator: Emulator) -> None:
    emulator.set_rate_limit(enabled=True, max_calls=100, window_secs=60)
    with emulator.client() as client:
        assert client.last_usage is None
        client.thread_owner(PSID)
        usage = client.last_usage
    assert usage is not None
    assert set(usage) == {"app", "page", "business_use_case"}
    figures = [usage["app"], usage["page"], *usage["business_use_case"]]
    assert any(f and f["call_count"] > 0 for f in figures)


def test_models_are_immutable_and_printable() -> None:
    owner = ThreadOwner("123", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert repr(owner) == "ThreadOwner(app_id='123', expiration='2026-01-02T03:04:05Z')"
    with pytest.raises(AttributeError):
        owner.app_id = "456"  # type: ignore[misc]
    assert hash(owner) == hash(ThreadOwner("123", owner.expiration))
    import pickle

    assert pickle.loads(pickle.dumps(owner)) == owner
    assert pickle.loads(pickle.dumps(App("1", "x"))) == App("1", "x")


def test_sync_client_inside_running_event_loop(emulator: Emulator) -> None:
    """Jupyter runs cells in a thread with a running loop: the blocking client must still work."""
    import asyncio

    async def inside() -> object:
        with emulator.client() as client:
            return client.thread_owner(PSID)

    owner = asyncio.run(inside())
    assert isinstance(owner, ThreadOwner)


def test_client_threads_share_the_runtime(emulator: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with emulator.client() as client, ThreadPoolExecutor(8) as pool:
        owners = list(pool.map(lambda i: client.thread_owner(str(1000 + i)), range(64)))
    assert all(o is not None and o.app_id == emulator.primary.app_id for o in owners)


def test_emulator_info_port_app_and_reset(emulator: Emulator) -> None:
    info = emulator.info()
    assert info["url"] == emulator.url == f"http://127.0.0.1:{emulator.port}"
    assert info["page_id"] == emulator.page_id
    assert isinstance(emulator.port, int) and 0 < emulator.port < 65536
    for role in ("primary", "secondary", "page_inbox"):
        app = emulator.app(role)
        assert app.app_id == info["apps"][role]["app_id"] and app.token == info["apps"][role]["token"]
    assert emulator.app("page_inbox").app_id == "263902037430900"
    with pytest.raises(ValueError):
        emulator.app("nobody")
    with emulator.client() as bot:
        bot.pass_thread_control_to_page_inbox("4242")
        emulator.inject_fault({"action": {"type": "reset"}})
        assert emulator.state()["threads"]["4242"]["owner_role"] == "page_inbox"
        emulator.reset()
        assert emulator.request_log() == [] and emulator.state()["faults_pending"] == 0
        assert "4242" not in emulator.state()["threads"], "threads back to the start"
        assert bot.thread_owner("4242") is not None  # no fault left, the thread is the bot's again
        assert emulator.state()["threads"]["4242"]["owner_role"] == "primary"


def test_max_response_bytes(emulator: Emulator) -> None:
    big = '{"data": [{"thread_owner": {"app_id": "1"}, "pad": "' + "x" * 4096 + '"}]}'
    emulator.inject_fault({"count": 2, "action": {"type": "malformed", "status": 200, "body": big}})
    with pytest.raises(mh.ProtocolError) as info:
        emulator.client(max_response_bytes=1024).thread_owner("1")
    assert "1024" in str(info.value) and len(emulator.request_log()) == 1
    assert emulator.client(max_response_bytes=8192).thread_owner("1") is not None  # under the cap
