"""Hostile servers and careless callers (issue 11) through the Python
package: each test pins one behaviour that did not hold, against the
emulator's fault injection over real HTTP on 127.0.0.1. The Rust side is
core/tests/hostile.rs; docs/RELIABILITY.md lists what each test proves."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pickle
import threading
import time
import traceback
from typing import Any, Dict, List

import pytest

import messenger_handover as mh
from messenger_handover import errors
from messenger_handover.testing import Emulator, ScriptedServer
from messenger_handover.webhooks import WebhookHandler, parse_events, sign, verify_signature, verify_subscription

PSID = "2468013579"
# Generous: these calls must end at once, but CI is a loaded 2-core box.
PROMPTLY = 20.0


def seen(emu: Emulator, method: str, edge: str) -> int:
    return sum(1 for r in emu.request_log() if r["method"] == method and r["path"].endswith(edge))


def fast(emu: Emulator, **kw: Any) -> mh.Client:
    kw.setdefault("retry_base_delay", 0.005)
    return emu.client(**kw)


# ------------------------------------------------------------ 2. redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(status: int) -> None:
    with Emulator() as graph, Emulator() as elsewhere:
        client = fast(graph)
        for method, edge in (("GET", "thread_owner"), ("POST", "take_thread_control")):
            location = f"{elsewhere.url}/v26.0/{graph.page_id}/{edge}?recipient={PSID}"
            graph.inject_fault({"match": {"method": method}, "count": 5,
                                "action": {"type": "status", "status": status, "headers": {"Location": location}}})
            with pytest.raises(errors.ProtocolError) as info:
                if method == "GET":
                    client.thread_owner(PSID)
                else:
                    client.take_thread_control(PSID, "metadata")
            assert info.value.http_status == status
            assert seen(graph, method, edge) == 1, "a 3xx is never retried"
            graph.clear_faults()
        assert elsewhere.request_log() == [], "the redirect target was reached"


# ------------------------------------------------ 3. response strings redacted


def test_every_string_of_an_error_body_is_redacted() -> None:
    with Emulator() as emu:
        client = fast(emu)
        token = emu.primary.token
        echo = f"echo {token} echo"
        emu.inject_fault({"match": {"method": "GET"}, "action": {
            "type": "graph_error", "status": 400,
            "error": {"message": echo, "type": echo, "code": 100, "fbtrace_id": echo,
                      "error_user_title": echo, "error_user_msg": echo}}})
        with pytest.raises(errors.GraphApiError) as info:
            client.thread_owner(PSID)
        e = info.value
        for field in (e.message, e.type, e.fbtrace_id, e.user_title, e.user_message):
            assert field is not None and "echo" in field and token not in field
        texts = [str(e), repr(e), repr(vars(e)), "".join(traceback.format_exception(type(e), e, e.__traceback__))]
        try:
            texts.append(repr(pickle.loads(pickle.dumps(e)).__dict__))
        except (TypeError, pickle.PicklingError):
            pass
        for text in texts:
            assert token not in text, text[:300]

        # A body of the wrong shape: the JSON error would quote the value.
        emu.inject_fault({"match": {"method": "GET"}, "action": {
            "type": "malformed", "status": 200, "body": json.dumps({"data": echo})}})
        with pytest.raises(errors.ProtocolError) as info2:
            client.thread_owner(PSID)
        assert token not in str(info2.value) and token not in repr(vars(info2.value))


def test_every_header_string_is_redacted() -> None:
    """A content type, an x-fb-trace-id, the usage headers: strings from the
    response that reach errors, log records and `last_usage`."""
    token = "EAATOKENsecretVALUE0123456789"
    usage = json.dumps({token: [{"type": token, "call_count": 100, "total_cputime": 1, "total_time": 1,
                                 "estimated_time_to_regain_access": 0}]})
    records: List[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("messenger_handover")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with ScriptedServer() as server:
            server.push_response(502, {"Content-Type": f"text/html; x={token}", "x-fb-trace-id": f"t-{token}"}, "<html/>")
            server.push_response(200, {"Content-Type": "application/json", "x-fb-trace-id": f"t-{token}",
                                       "X-Business-Use-Case-Usage": usage}, '{"data":[]}')
            client = mh.Client(token, base_url=server.url, page_id="1", max_retries=0, max_retry_wait=1)
            with pytest.raises(errors.ServerError) as failed:
                client.thread_owner(PSID)
            assert client.thread_owner(PSID) is None
            # At 100% of its budget: the next call is refused here, with the usage.
            with pytest.raises(errors.RateLimitError) as throttled:
                client.thread_owner(PSID)
            assert throttled.value.usage is not None
            texts = [str(failed.value), repr(vars(failed.value)), str(throttled.value), repr(vars(throttled.value)),
                     repr(client.last_usage)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    texts += [f"{r.getMessage()} {vars(r)}" for r in records]
    assert any("redacted" in t for t in texts) and len(records) >= 2
    for text in texts:
        assert token not in text, text[:300]


# --------------------------------------------------- 4, 6. webhook secrets


BODY = b'{"object":"page","entry":[]}'


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_webhook_secrets_are_refused(empty: str) -> None:
    with pytest.raises(ValueError):
        verify_signature(empty, BODY, sign(empty, BODY))
    with pytest.raises(ValueError):
        WebhookHandler(app_secret=empty)
    with pytest.raises(ValueError):
        WebhookHandler(app_secret="s3cret", verify_token=empty)
    handshake = {"hub.mode": "subscribe", "hub.verify_token": empty, "hub.challenge": "42"}
    with pytest.raises(ValueError):
        verify_subscription(handshake, empty)
    # What still works: a real secret, and no handshake configured.
    handler = WebhookHandler(app_secret="s3cret")
    assert handler.handle("POST", None, {"X-Hub-Signature-256": sign("s3cret", BODY)}, BODY).status == 200
    assert handler.handle("POST", None, {"X-Hub-Signature-256": sign(empty, BODY)}, BODY).status == 403


def test_webhook_handler_keeps_its_secrets_out_of_pickles_and_vars() -> None:
    secret, token = "app-secret-do-not-leak", "verify-token-do-not-leak"
    handler = WebhookHandler(app_secret=secret, verify_token=token)
    for dump in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            dump(handler)
    try:
        shown = repr(vars(handler))
    except TypeError:  # no __dict__ at all
        shown = ""
    for text in (shown, repr(handler), str(handler)):
        assert secret not in text and token not in text
    assert handler.subscribe({"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "7"}) == "7"


def test_bad_signature_status_is_403_as_in_node() -> None:
    handler = WebhookHandler(app_secret="s3cret")
    assert handler.handle("POST", None, {"X-Hub-Signature-256": "sha256=00"}, BODY).status == 403


# ----------------------------------------------------------- 8. absurd waits


def throttle_fault(emu: Emulator, retry_after: Any = None, regain: Any = None) -> Dict[str, Any]:
    headers: Dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if regain is not None:
        headers["X-Business-Use-Case-Usage"] = json.dumps({emu.page_id: [{
            "type": "messenger", "call_count": 100, "total_cputime": 1, "total_time": 1,
            "estimated_time_to_regain_access": regain}]})
    return {"match": {"method": "GET"}, "count": 10, "action": {
        "type": "graph_error", "status": 400, "headers": headers,
        "error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613}}}


@pytest.mark.parametrize("retry_after,regain", [("1e30", None), ("99999", None), ("soon", None), ("-5", None),
                                                (None, 1e308)])
def test_waits_that_overflow_or_exceed_max_retry_wait_fail_at_once(retry_after: Any, regain: Any) -> None:
    with Emulator() as emu:
        client = fast(emu, max_retries=3)
        emu.inject_fault(throttle_fault(emu, retry_after, regain))
        started = time.monotonic()
        with pytest.raises(errors.RateLimitError) as info:
            client.thread_owner(PSID)
        assert time.monotonic() - started < PROMPTLY
        assert info.value.retry_after is not None and info.value.retry_after > 60
        assert seen(emu, "GET", "thread_owner") == 1, "retried instead of failing at once"


# ------------------------------------------------- 9. close() ends backoff


def test_close_ends_calls_waiting_in_backoff() -> None:
    # Retry-After fixes each wait at 30 s; a jittered backoff alone is a
    # random wait that may end before close() and let a retry out.
    with Emulator() as emu:
        client = fast(emu, max_retries=100, retry_base_delay=2.0)
        emu.inject_fault({"match": {"method": "GET"}, "count": 1000, "action": {
            "type": "status", "status": 503, "headers": {"Retry-After": "30"},
            "body": '{"error":{"message":"down","code":2,"is_transient":true}}'}})
        outcome: List[BaseException] = []

        def call() -> None:
            try:
                client.thread_owner(PSID)
            except BaseException as e:  # noqa: BLE001 - kept for the assertion
                outcome.append(e)

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        while seen(emu, "GET", "thread_owner") == 0:
            time.sleep(0.01)
        time.sleep(0.1)
        client.close()
        worker.join(PROMPTLY)
        assert not worker.is_alive(), "the call kept waiting after close()"
        assert outcome and not isinstance(outcome[0], errors.ServerError), outcome
        assert seen(emu, "GET", "thread_owner") == 1, "the closed error was retried"


async def test_close_ends_async_calls_waiting_in_backoff() -> None:
    with Emulator() as emu:
        client = emu.async_client(max_retries=100, retry_base_delay=2.0)
        emu.inject_fault({"match": {"method": "GET"}, "count": 1000, "action": {
            "type": "status", "status": 503, "headers": {"Retry-After": "30"},
            "body": '{"error":{"message":"down","code":2,"is_transient":true}}'}})
        task = asyncio.ensure_future(client.thread_owner(PSID))
        while seen(emu, "GET", "thread_owner") == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        await client.aclose()
        with pytest.raises(Exception) as info:
            await asyncio.wait_for(task, PROMPTLY)
        assert not isinstance(info.value, (asyncio.TimeoutError, errors.ServerError)), info.value
        assert seen(emu, "GET", "thread_owner") == 1


# ------------------------------------------------ 11. connections capped


def most_in_flight(emu: Emulator, client: mh.AsyncClient, calls: int) -> int:
    emu.inject_fault({"match": {"method": "GET"}, "count": calls, "action": {"type": "delay", "ms": 400}})
    most = 0

    async def run() -> None:
        nonlocal most
        tasks = [asyncio.ensure_future(client.thread_owner(PSID)) for _ in range(calls)]
        deadline = time.monotonic() + 120
        while not all(t.done() for t in tasks):
            # Status 0: arrived and held by the delay, not answered yet.
            most = max(most, sum(1 for r in emu.request_log() if r["status"] == 0))
            assert time.monotonic() < deadline, "calls did not finish"
            await asyncio.sleep(0.02)
        for t in tasks:
            await t  # every queued call completes

    asyncio.run(run())
    return most


def test_connections_in_flight_are_capped() -> None:
    with Emulator() as emu:
        most = most_in_flight(emu, emu.async_client(max_connections=3), 12)
        assert 1 <= most <= 3, f"{most} requests in flight with max_connections=3"
        assert seen(emu, "GET", "thread_owner") == 12
        with pytest.raises(ValueError):
            emu.client(max_connections=0)


def test_connections_in_flight_default_to_100() -> None:
    with Emulator() as emu:
        most = most_in_flight(emu, emu.async_client(), 130)
        assert most <= 100, f"{most} requests in flight with the default cap"


# ------------------------------------------------- 12. exact numeric ids


def owner_from(emu: Emulator, client: mh.Client, app_id: str) -> str:
    body = '{"data":[{"thread_owner":{"app_id":%s}}]}' % app_id
    emu.inject_fault({"match": {"method": "GET"}, "action": {"type": "malformed", "status": 200, "body": body}})
    owner = client.thread_owner(PSID)
    assert owner is not None
    return owner.app_id


@pytest.mark.parametrize("exact", ["263902037430900", "18446744073709551615", "263902037430900123456789"])
def test_numeric_ids_keep_every_digit(exact: str) -> None:
    with Emulator() as emu:
        assert owner_from(emu, fast(emu), exact) == exact


@pytest.mark.parametrize("bad", ["1.5", "-5", "2.5e3"])
def test_fractional_or_negative_ids_are_protocol_errors(bad: str) -> None:
    with Emulator() as emu:
        with pytest.raises(errors.ProtocolError):
            owner_from(emu, fast(emu), bad)


def test_webhook_event_ids_keep_every_digit_and_refuse_fractions() -> None:
    def batch(app_id: str) -> bytes:
        return (
            '{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"9"},'
            '"recipient":{"id":"1"},"timestamp":1,"pass_thread_control":{"new_owner_app_id":%s}}]}]}' % app_id
        ).encode()

    (event,) = parse_events(batch("18446744073709551615"))
    assert getattr(event, "new_owner_app_id") == "18446744073709551615"
    for bad in ("1.5", "-5"):
        with pytest.raises(ValueError):
            parse_events(batch(bad))
