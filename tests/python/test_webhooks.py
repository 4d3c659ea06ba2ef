"""Webhooks end to end: a client moves a thread, the emulator POSTs the signed
event to this test's own loopback server, which verifies and parses it."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from messenger_handover import ThreadControlError
from messenger_handover.testing import Emulator
from messenger_handover.webhooks import (
    AppRoles,
    MalformedBodyError,
    Message,
    Other,
    PassThreadControl,
    RequestThreadControl,
    SignatureError,
    Standby,
    SubscriptionError,
    TakeThreadControl,
    WebhookHandler,
    parse_events,
    sign,
    verify_signature,
    verify_subscription,
)

PSID = "1234567890"


class Receiver:
    def __init__(self) -> None:
        self.deliveries: List[Tuple[bytes, Dict[str, str]]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.deliveries.append((body, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.deliveries) >= n, f"{len(self.deliveries)} deliveries"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_end_to_end_pass_take_request_standby(emulator: Emulator, receiver: Receiver) -> None:
    emulator.set_webhook("page_inbox", receiver.url)
    handler = WebhookHandler(app_secret=emulator.page_inbox.secret, verify_token="vt")
    with emulator.client() as bot:
        bot.pass_thread_control_to_page_inbox(PSID, metadata="human please")
        receiver.wait(1)
        emulator.simulate_message("555", "hello")  # the bot owns 555: the inbox gets a standby copy
        receiver.wait(2)
        bot.take_thread_control(PSID, metadata="back")
        receiver.wait(3)
    events = []
    for body, headers in receiver.deliveries:
        result = handler.handle("POST", None, headers, body)
        assert result.status == 200, result.body
        events.extend(result.events)
        # A wrong secret or a tampered body is refused.
        signature = {k.lower(): v for k, v in headers.items()}.get("x-hub-signature-256")
        assert signature and verify_signature(emulator.page_inbox.secret, body, signature)
        assert not verify_signature(emulator.primary.secret, body, signature)
        assert handler.handle("POST", None, headers, body + b" ").status == 403
    passed = [e for e in events if isinstance(e, PassThreadControl)]
    assert passed and passed[0].new_owner_app_id == emulator.page_inbox.app_id
    assert passed[0].previous_owner_app_id == emulator.primary.app_id
    assert passed[0].metadata == "human please" and passed[0].psid == PSID
    assert passed[0].page_id == emulator.page_id
    assert isinstance(passed[0].timestamp, datetime) and passed[0].timestamp.tzinfo is not None
    assert any(
        isinstance(e, Standby) and e.psid == "555" and isinstance(e.event, Message) and e.event.text == "hello"
        for e in events
    )
    taken = [e for e in events if isinstance(e, TakeThreadControl)]
    assert taken and taken[0].previous_owner_app_id == emulator.page_inbox.app_id


async def test_request_reaches_the_owner(emulator: Emulator, receiver: Receiver) -> None:
    emulator.set_webhook("primary", receiver.url)
    async with emulator.async_client("page_inbox") as inbox:
        await inbox.request_thread_control(PSID, metadata="agent free")
    receiver.wait(1)
    body, headers = receiver.deliveries[0]
    signature = {k.lower(): v for k, v in headers.items()}["x-hub-signature-256"]
    events = WebhookHandler(emulator.primary.secret).events(body, signature)
    assert isinstance(events[0], RequestThreadControl)
    assert events[0].requested_owner_app_id == emulator.page_inbox.app_id and events[0].metadata == "agent free"


async def test_a_new_primary_receiver_gets_app_roles(emulator: Emulator, receiver: Receiver) -> None:
    emulator.set_webhook("primary", receiver.url)
    emulator.set_webhook("secondary", receiver.url)
    await emulator.set_primary_receiver_async("secondary")
    assert len(receiver.deliveries) == 2, "delivered before the call returns"
    roles = {}
    for body, headers in receiver.deliveries:
        signature = {k.lower(): v for k, v in headers.items()}["x-hub-signature-256"]
        secrets = [emulator.primary.secret, emulator.secondary.secret]
        secret = next(s for s in secrets if verify_signature(s, body, signature))
        (event,) = WebhookHandler(secret).events(body, signature)
        assert isinstance(event, AppRoles) and event.psid is None and event.page_id == emulator.page_id
        roles.update(event.roles)
    assert roles == {
        emulator.secondary.app_id: ["primary_receiver"],
        emulator.primary.app_id: ["secondary_receiver"],
    }
    # The new primary may now take a thread; the bot app may not.
    async with emulator.async_client("secondary") as secondary, emulator.async_client() as bot:
        await secondary.take_thread_control(PSID)
        owner = await secondary.thread_owner(PSID)
        assert owner is not None and owner.app_id == emulator.secondary.app_id
        with pytest.raises(ThreadControlError):
            await bot.take_thread_control(PSID)
    with pytest.raises(ValueError, match="app"):
        emulator.set_primary_receiver("nobody")


def test_signatures() -> None:
    body = b'{"object":"page","entry":[]}'
    header = sign("s3cret", body)
    assert header.startswith("sha256=") and verify_signature("s3cret", body, header)
    assert verify_signature("s3cret", body.decode(), header)
    for bad in (None, "", "sha256=", "sha256=zz", "sha1=" + header[7:], header.upper()):
        assert verify_signature("s3cret", body, bad) is False
    assert not verify_signature("other", body, header)
    with pytest.raises(SignatureError):
        WebhookHandler("s3cret").events(body, None)


def test_subscription() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "tok") == "1158201444"
    assert verify_subscription("hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42", "tok") == "42"
    with pytest.raises(SubscriptionError, match="verify_token"):
        verify_subscription(params, "nope")
    with pytest.raises(SubscriptionError):
        verify_subscription({"hub.mode": "unsubscribe"}, "tok")
    handler = WebhookHandler("app-secret-value-1", verify_token="tok")
    assert handler.handle("GET", params, {}).status == 200
    assert handler.handle("GET", {**params, "hub.verify_token": "x"}, {}).status == 403
    assert handler.handle("PUT", None, {}).status == 405
    assert "app-secret-value-1" not in repr(handler)


def test_parse_batch_every_kind() -> None:
    body = json.dumps({"object": "page", "entry": [
        {"id": "1", "time": 1, "messaging": [
            {"sender": {"id": "9"}, "recipient": {"id": "1"}, "timestamp": 1458692752478,
             "pass_thread_control": {"new_owner_app_id": 123, "metadata": "m"}},
            {"recipient": {"id": "1"}, "timestamp": 2, "app_roles": {"123": ["primary_receiver"]}},
            {"sender": {"id": "9"}, "recipient": {"id": "1"}, "timestamp": 3, "postback": {"payload": "X"}},
        ]},
        {"id": "1", "time": 2, "standby": [{"sender": {"id": "8"}, "recipient": {"id": "1"}, "timestamp": 4, "message": {"text": "x"}}]},
    ]})
    events = parse_events(body)
    assert [type(e) for e in events] == [PassThreadControl, AppRoles, Other, Standby]
    first = events[0]
    assert isinstance(first, PassThreadControl) and first.new_owner_app_id == "123"
    assert first.timestamp == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=timezone.utc)
    assert isinstance(events[1], AppRoles) and events[1].roles == {"123": ["primary_receiver"]}
    assert isinstance(events[2], Other) and events[2].event["postback"] == {"payload": "X"}
    with pytest.raises(MalformedBodyError):
        parse_events(b"{not json")
    handler = WebhookHandler("k")
    assert handler.handle("POST", None, {"x-hub-signature-256": sign("k", b"{nope")}, b"{nope").status == 400


async def test_simulate_message_async_reaches_the_webhook(emulator: Emulator, receiver: Receiver) -> None:
    emulator.set_webhook("page_inbox", receiver.url)
    await emulator.simulate_message_async("556", "from asyncio")  # the bot owns 556: a standby copy
    receiver.wait(1)
    handler = WebhookHandler(app_secret=emulator.page_inbox.secret)
    body, headers = receiver.deliveries[0]
    events = handler.events(body, {k.lower(): v for k, v in headers.items()}["x-hub-signature-256"])
    assert any(isinstance(e, Standby) and e.psid == "556" and isinstance(e.event, Message) and e.event.text == "from asyncio" for e in events)


def test_webhook_handler_subscribe() -> None:
    handler = WebhookHandler(app_secret="s3cret", verify_token="vt")
    q = "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444"
    assert handler.subscribe(q) == "1158201444"
    assert handler.subscribe({"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "7"}) == "7"
    assert handler.subscribe([("hub.mode", "subscribe"), ("hub.verify_token", "vt"), ("hub.challenge", "8")]) == "8"
    with pytest.raises(SubscriptionError):
        handler.subscribe("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
    with pytest.raises(SubscriptionError):
        WebhookHandler(app_secret="s3cret").subscribe(q)  # no verify_token configured
