"""The shared conformance vectors (tests/conformance/*.json), run through both
Python clients against the scripted server, exactly as the README there says."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from messenger_handover import AsyncClient, Client, HandoverError
from messenger_handover.testing import ScriptedServer
from messenger_handover.webhooks import MalformedBodyError, parse_events, verify_signature

ROOT = Path(__file__).resolve().parents[1] / "conformance"
VECTORS = sorted(ROOT.glob("*.json"))
TOKEN = "conformance-token-7f3a"


def load(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as s:
        yield s


def make_kwargs(vector: Dict[str, Any], url: str) -> Dict[str, Any]:
    overrides = vector.get("client") or {}
    kw: Dict[str, Any] = {"base_url": url, "max_retries": overrides.get("max_retries", 0)}
    for key in ("page_id", "app_secret", "api_version"):
        if overrides.get(key) is not None:
            kw[key] = overrides[key]
    return kw


def queue(server: ScriptedServer, vector: Dict[str, Any]) -> None:
    responses = vector.get("responses") or ([vector["response"]] if vector.get("response") else [])
    for r in responses:
        headers = dict(r.get("headers") or {})
        if "body_text" in r:
            body = r["body_text"]
        elif r.get("body") is not None:
            body = json.dumps(r["body"], separators=(",", ":"))
        else:
            body = ""
        server.push_response(r.get("status", 200), headers, body)


def call_sync(client: Client, op: str, args: Dict[str, Any]) -> Any:
    if op == "conversations_page":
        return client.conversations(**args).next_page()
    return getattr(client, op)(**args)


async def call_async(client: AsyncClient, op: str, args: Dict[str, Any]) -> Any:
    if op == "conversations_page":
        return await client.conversations(**args).next_page()
    return await getattr(client, op)(**args)


def instant(value: Optional[str]) -> Optional[datetime]:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_result(op: str, expected: Any, actual: Any) -> None:
    if op == "thread_owner":
        if expected is None:
            assert actual is None
            return
        assert actual is not None
        assert actual.app_id == expected["app_id"]
        assert isinstance(actual.app_id, str)
        assert actual.expiration == instant(expected["expiration"])
        if actual.expiration is not None:
            assert actual.expiration.tzinfo is not None
    elif op == "secondary_receivers":
        assert [a.to_dict() for a in actual] == expected
    elif op == "conversations_page":
        assert actual is not None
        assert actual.after == expected["after"]
        assert actual.has_next == expected["has_next"]
        assert len(actual.items) == len(expected["items"])
        for conv, want in zip(actual.items, expected["items"]):
            for key, value in want.items():
                if key == "raw":
                    raw = conv.raw
                    for k, v in value.items():
                        assert k in raw and raw[k] == v, k
                elif key == "updated_time":
                    assert conv.updated_time == instant(value)
                elif key in ("participants", "senders"):
                    people = [p.to_dict() for p in getattr(conv, key)]
                    assert len(people) == len(value), key
                    for got, exp in zip(people, value):
                        assert {k: got[k] for k in exp} == exp, key
                else:
                    assert getattr(conv, key) == value, key
    else:
        assert expected is None and actual is None


def check_error(expected: Dict[str, Any], err: BaseException) -> None:
    kind = expected["kind"]
    if kind == "invalid_input":
        assert isinstance(err, (ValueError, TypeError)), repr(err)
        assert not isinstance(err, HandoverError)
        if "argument" in expected:
            assert getattr(err, "argument", None) == expected["argument"] or expected["argument"] in str(err)
        return
    assert isinstance(err, HandoverError), repr(err)
    assert err.kind == kind
    for key, attr in (
        ("code", "code"),
        ("subcode", "subcode"),
        ("error_type", "type"),
        ("http_status", "http_status"),
        ("fbtrace_id", "fbtrace_id"),
        ("is_transient", "is_transient"),
    ):
        if key in expected:
            assert getattr(err, attr) == expected[key], key
    if "retry_after" in expected:
        want = expected["retry_after"]
        assert (err.retry_after is None) if want is None else err.retry_after == pytest.approx(want, abs=1)
    if "message_contains" in expected:
        assert expected["message_contains"] in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err)


def check_one(what: str, want: Dict[str, Any], got: Dict[str, Any]) -> None:
    assert got["method"] == want["method"], what
    assert got["path"] == want["path"], what
    keys = [k for k, _ in got["query"]]
    assert len(keys) == len(set(keys)), f"{what}: repeated query keys: {keys}"
    assert dict(got["query"]) == {k: v if isinstance(v, str) else json.dumps(v) for k, v in (want.get("query") or {}).items()}, what
    if want.get("body") is None:
        assert got["body"] == "", what
    else:
        assert json.loads(got["body"]) == want["body"], what
    for name, value in (want.get("headers") or {}).items():
        assert got["headers"].get(name.lower()) == value, f"{what}: header {name}"


def check_requests(vector: Dict[str, Any], seen: List[Dict[str, Any]], outcome: Any) -> None:
    for r in seen:
        assert "access_token" not in {k for k, _ in r["query"]}
        assert TOKEN not in r["path"] and all(TOKEN not in k + v for k, v in r["query"])
    want = vector["request"]
    if want is None:
        assert seen == [], "bad input must be refused before anything is sent"
        return
    count = vector.get("request_count", 1)
    # A conversations page announcing a next page starts its prefetch (DESIGN:
    # prefetch one): one more request is allowed, built from the cursor.
    prefetched = (
        vector["call"]["op"] == "conversations_page"
        and outcome is not None
        and getattr(outcome, "has_next", False)
        and len(seen) == count + 1
    )
    assert len(seen) == count or prefetched, f"expected {count} request(s), {len(seen)} arrived"
    for i, r in enumerate(seen[:count]):
        check_one(f"request {i}", want, r)
    if prefetched:
        nxt = dict(want)
        nxt["query"] = dict(want.get("query") or {}, after=outcome.after)
        check_one("the prefetch of the next page", nxt, seen[count])


def wait_for_prefetch(server: ScriptedServer, vector: Dict[str, Any], outcome: Any) -> None:
    if vector["call"]["op"] == "conversations_page" and getattr(outcome, "has_next", False):
        deadline = time.monotonic() + 2
        while len(server.requests()) < vector.get("request_count", 1) + 1 and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector_sync(server: ScriptedServer, path: Path) -> None:
    vector = load(path)
    server.clear()
    queue(server, vector)
    call = vector["call"]
    outcome: Any = None
    error: Optional[BaseException] = None
    try:
        with Client(TOKEN, **make_kwargs(vector, server.url)) as client:
            outcome = call_sync(client, call["op"], dict(call.get("args") or {}))
            wait_for_prefetch(server, vector, outcome)
    except (HandoverError, ValueError, TypeError) as e:
        error = e
    check_requests(vector, server.requests(), outcome)
    expect = vector["expect"]
    if "error" in expect:
        assert error is not None, f"expected {expect['error']}, got {outcome!r}"
        check_error(expect["error"], error)
    else:
        assert error is None, repr(error)
        check_result(call["op"], expect["result"], outcome)


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_vector_async(server: ScriptedServer, path: Path) -> None:
    vector = load(path)
    server.clear()
    queue(server, vector)
    call = vector["call"]
    outcome: Any = None
    error: Optional[BaseException] = None
    try:
        async with AsyncClient(TOKEN, **make_kwargs(vector, server.url)) as client:
            outcome = await call_async(client, call["op"], dict(call.get("args") or {}))
            wait_for_prefetch(server, vector, outcome)
    except (HandoverError, ValueError, TypeError) as e:
        error = e
    check_requests(vector, server.requests(), outcome)
    expect = vector["expect"]
    if "error" in expect:
        assert error is not None, f"expected {expect['error']}, got {outcome!r}"
        check_error(expect["error"], error)
    else:
        assert error is None, repr(error)
        check_result(call["op"], expect["result"], outcome)


def _signature_vectors() -> List[Dict[str, Any]]:
    path = ROOT / "webhooks" / "signatures.json"
    return list(load(path)["vectors"]) if path.exists() else []


def _event_vectors() -> List[Dict[str, Any]]:
    path = ROOT / "webhooks" / "events.json"
    return list(load(path)["vectors"]) if path.exists() else []


@pytest.mark.parametrize("vector", _signature_vectors(), ids=lambda v: v["name"])
def test_webhook_signature(vector: Dict[str, Any]) -> None:
    assert verify_signature(vector["app_secret"], vector["body"].encode("utf-8"), vector["header"]) is vector["expect"]


_TYPE_NAMES = {
    "PassThreadControl": "pass_thread_control",
    "TakeThreadControl": "take_thread_control",
    "RequestThreadControl": "request_thread_control",
    "AppRoles": "app_roles",
    "Message": "message",
    "Standby": "standby",
    "Other": "other",
}


def canonical(event: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"type": _TYPE_NAMES[type(event).__name__]}
    for name, value in vars(event).items():
        if name == "timestamp":
            out["timestamp_ms"] = None if value is None else round(value.timestamp() * 1000)
        elif name == "event" and type(event).__name__ == "Standby":
            out[name] = canonical(value)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("vector", _event_vectors(), ids=lambda v: v["name"])
def test_webhook_events(vector: Dict[str, Any]) -> None:
    if "body_text" in vector:
        body = vector["body_text"].encode("utf-8")
    else:
        body = json.dumps(vector["body"], separators=(",", ":")).encode("utf-8")
    expect = vector["expect"]
    if "error" in expect:
        with pytest.raises(MalformedBodyError):
            parse_events(body)
        return
    events = parse_events(body)
    if "count" in expect:
        assert len(events) == expect["count"]
    if "events" in expect:
        assert [canonical(e) for e in events] == expect["events"]
