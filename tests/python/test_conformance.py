"""The shared conformance vectors (tests/conformance/*.json), run through both
Python clients against the scripted server, exactly as the README there says."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl

import pytest

from messenger_handover import AsyncClient, Client, HandoverError
from messenger_handover.testing import ScriptedServer
from messenger_handover.webhooks import MalformedBodyError, parse_events, verify_signature

ROOT = Path(__file__).resolve().parents[1] / "conformance"
# invalid_input*.json has its own shape and runner (test_invalid_input_vector).
VECTORS = sorted(p for p in ROOT.glob("*.json") if not p.name.startswith("invalid_input"))
TOKEN = "conformance-token-7f3a"


def test_the_vectors_load() -> None:
    # Fail, not skip: a runner that finds no vectors must not pass.
    assert len(VECTORS) >= 90, f"only {len(VECTORS)} vectors in {ROOT}"
    assert len(_signature_vectors()) >= 5 and len(_event_vectors()) >= 5


def load(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@pytest.fixture
def server():
    # One scripted server per vector: nothing a vector leaves behind (a late
    # prefetch, a queued answer) can reach the next one.
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


# Pagers stay referenced here until the vector's checks are done, so the
# prefetch they started is not cancelled by garbage collection first.
PAGERS: List[Any] = []


def call_sync(client: Client, op: str, args: Dict[str, Any]) -> Any:
    if op == "conversations_page":
        pager = client.conversations(**args)
        PAGERS.append(pager)
        return pager.next_page()
    return getattr(client, op)(**args)


async def call_async(client: AsyncClient, op: str, args: Dict[str, Any]) -> Any:
    if op == "conversations_page":
        pager = client.conversations(**args)
        PAGERS.append(pager)
        return await pager.next_page()
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
            assert getattr(err, "argument", None) == expected["argument"], repr(err)
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
        assert (err.retry_after is None) if want is None else abs(err.retry_after - want) < 1e-6, err.retry_after
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
    # prefetch one) before the caller asks for page two: exactly one more
    # request, built from the cursor.
    prefetched = vector["call"]["op"] == "conversations_page" and bool(getattr(outcome, "has_next", False))
    total = count + 1 if prefetched else count
    assert len(seen) == total, f"expected {total} request(s), {len(seen)} arrived: {seen}"
    for i, r in enumerate(seen[:count]):
        check_one(f"request {i}", want, r)
    if prefetched:
        nxt = dict(want)
        nxt["query"] = dict(want.get("query") or {}, after=outcome.after)
        check_one("the prefetch of the next page", nxt, seen[count])


def wait_for_prefetch(server: ScriptedServer, vector: Dict[str, Any], outcome: Any) -> None:
    """Waits (up to 10 s, for a loaded machine) for the prefetch, with the
    pager still alive: dropping it would cancel the prefetch."""
    if vector["call"]["op"] == "conversations_page" and getattr(outcome, "has_next", False):
        deadline = time.monotonic() + 10
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
    PAGERS.clear()
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
    PAGERS.clear()
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


# ------------------------------------------------ tests/conformance/invalid_input.json

INPUT_VECTORS: List[Dict[str, Any]] = load(ROOT / "invalid_input.json")["vectors"]
DURATIONS = {"timeout", "max_retry_wait", "retry_base_delay"}


def _input_value(v: Any) -> Any:
    if isinstance(v, dict) and "repeat" in v:
        return v["repeat"] * v["times"]
    if isinstance(v, list):
        return [_input_value(x) for x in v]
    return v


def _refuse(client: Client, vector: Dict[str, Any], value: Any) -> None:
    call, argument = vector["call"], vector["argument"]
    args: Dict[str, Any] = {"psid": "1234567890"}
    if call == "pass_thread_control":
        args["target_app_id"] = "263902037430900"
    if call == "extend_thread_control":
        args["duration"] = 60
    if call == "conversations":
        client.conversations(**{argument: value})
        return
    args[argument] = value
    getattr(client, call)(**args)


def test_there_are_invalid_input_vectors() -> None:
    assert len(INPUT_VECTORS) >= 40


@pytest.mark.parametrize("vector", INPUT_VECTORS, ids=lambda v: f"{v['call']}-{v['argument']}-{str(v['value'])[:20]}")
def test_invalid_input_vector(vector: Dict[str, Any]) -> None:
    """The same bad input gets the same rule and words as in Rust and Node."""
    value = _input_value(vector["value"])
    expected = TypeError if vector["problem"] == "type" else ValueError
    with pytest.raises((TypeError, ValueError)) as info:
        if vector["call"] == "client":
            kwargs: Dict[str, Any] = {"base_url": "http://127.0.0.1:9"}
            token: Any = TOKEN
            if vector["argument"] == "access_token":
                token = value
            else:
                kwargs[vector["argument"]] = value
            Client(token, **kwargs)
        else:
            with Client(TOKEN, base_url="http://127.0.0.1:9", max_retries=0) as client:
                _refuse(client, vector, value)
    err = info.value
    assert type(err) is expected, repr(err)
    assert vector["argument"] in str(err), str(err)
    if vector["message"] is not None:
        assert vector["message"] in str(err)
        assert getattr(err, "argument", None) == vector["argument"]
    if vector.get("not_echoed"):
        assert value not in str(err)


# ------------------------------------------------ tests/conformance/batch/*.json

BATCH_VECTORS = sorted((ROOT / "batch").glob("*.json"))


def test_the_batch_vectors_load() -> None:
    assert len(BATCH_VECTORS) >= 10, f"only {len(BATCH_VECTORS)} vectors in {ROOT / 'batch'}"


def _split_relative(url: str) -> Any:
    path, _, query = url.partition("?")
    return path, dict(parse_qsl(query, keep_blank_values=True))


def _check_batch_request(i: int, want: Dict[str, Any], got: Dict[str, Any]) -> None:
    what = f"request {i}"
    assert (got["method"], got["path"]) == (want.get("method", "POST"), want.get("path", "/")), what
    assert dict(got["query"]) == want.get("query", {}), what
    for name, value in (want.get("headers") or {}).items():
        assert got["headers"].get(name.lower()) == value, f"{what}: header {name}"
    form = dict(parse_qsl(got["body"], keep_blank_values=True))
    sent = json.loads(form.pop("batch"))
    assert form == want.get("form", {}), what
    assert len(sent) == len(want["batch"]), what
    for j, (w, g) in enumerate(zip(want["batch"], sent)):
        assert set(g) <= {"method", "relative_url", "body"}, f"{what} op {j}: extra keys {set(g)}"
        assert g["method"] == w["method"], f"{what} op {j}"
        assert _split_relative(g["relative_url"]) == _split_relative(w["relative_url"]), f"{what} op {j}"
        body = None if g.get("body") is None else dict(parse_qsl(g["body"], keep_blank_values=True))
        assert body == w["body"], f"{what} op {j}"


def _check_batch_value(i: int, want: Any, got: Any) -> None:
    assert not isinstance(got, BaseException), f"result {i}: {got!r} instead of value {want}"
    if isinstance(want, dict) and "app_id" in want:
        assert got is not None and got.app_id == want["app_id"], f"result {i}: {got!r}"
        assert got.expiration == instant(want["expiration"]), f"result {i}: {got!r}"
    elif isinstance(want, dict):
        assert got.to_dict() == want, f"result {i}: {got!r}"
    elif isinstance(want, list):
        assert [a.to_dict() for a in got] == want, f"result {i}: {got!r}"
    else:
        assert got is None and want is None, f"result {i}: {got!r}"


def _check_batch_error(want: Dict[str, Any], err: BaseException) -> None:
    check_error(want, err)
    if "hint" in want:
        assert getattr(err, "hint", None) == want["hint"], repr(err)


def _check_batch_outcome(vector: Dict[str, Any], server: ScriptedServer, outcome: Any, error: Any) -> None:
    seen = server.requests()
    assert len(seen) == len(vector["requests"]), f"{len(seen)} request(s) instead of {len(vector['requests'])}: {seen}"
    for i, (want, got) in enumerate(zip(vector["requests"], seen)):
        _check_batch_request(i, want, got)
    for r in seen:
        assert TOKEN not in r["path"] + r["body"] and all(TOKEN not in v for _, v in r["query"])
    expect = vector["expect"]
    if "error" in expect:
        assert error is not None, f"expected {expect['error']}, got {outcome!r}"
        _check_batch_error(expect["error"], error)
        return
    assert error is None, repr(error)
    assert len(outcome) == len(expect["results"])
    for i, (want, got) in enumerate(zip(expect["results"], outcome)):
        if "error" in want:
            assert isinstance(got, BaseException), f"result {i}: {got!r} instead of error {want['error']}"
            _check_batch_error(want["error"], got)
        else:
            _check_batch_value(i, want["value"], got)


def _batch_call(client: Any, call: Dict[str, Any]) -> Any:
    """The vector's call on either client (an awaitable on the AsyncClient)."""
    args = call["args"]
    return client.batch(args["operations"]) if call["op"] == "batch" else client.thread_owners(args["psids"])


@pytest.mark.parametrize("path", BATCH_VECTORS, ids=[p.stem for p in BATCH_VECTORS])
def test_batch_vector_sync(server: ScriptedServer, path: Path) -> None:
    vector = load(path)
    queue(server, vector)
    outcome: Any = None
    error: Optional[BaseException] = None
    try:
        with Client(TOKEN, **make_kwargs(vector, server.url)) as client:
            outcome = _batch_call(client, vector["call"])
    except (HandoverError, ValueError, TypeError) as e:
        error = e
    _check_batch_outcome(vector, server, outcome, error)


@pytest.mark.parametrize("path", BATCH_VECTORS, ids=[p.stem for p in BATCH_VECTORS])
async def test_batch_vector_async(server: ScriptedServer, path: Path) -> None:
    vector = load(path)
    queue(server, vector)
    outcome: Any = None
    error: Optional[BaseException] = None
    try:
        async with AsyncClient(TOKEN, **make_kwargs(vector, server.url)) as client:
            outcome = await _batch_call(client, vector["call"])
    except (HandoverError, ValueError, TypeError) as e:
        error = e
    _check_batch_outcome(vector, server, outcome, error)
