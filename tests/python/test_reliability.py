"""Reliability and security of the Python package (issue 6): the fault and
throttle suite of core/tests/faults.rs through the Python clients, a scan of
every string the package can produce for the token and the app secret, and
fork, cancellation and interpreter exit with work in flight."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest

import messenger_handover as mh
from messenger_handover import errors
from messenger_handover.testing import Emulator

PSID = "2468013579"
UNAVAILABLE = json.dumps(
    {"error": {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2,
               "is_transient": True, "fbtrace_id": "Afault5xx"}}
)
HTML_502 = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


@contextlib.contextmanager
def refusing_socket() -> Iterator[str]:
    """A URL whose port is bound but not listening: connections are refused,
    and no other process can take the port meanwhile (unlike a port bound,
    closed, then reused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def fast(emu: Emulator, **kw: Any) -> mh.Client:
    kw.setdefault("retry_base_delay", 0.005)
    return emu.client(**kw)


def seen(emu: Emulator, method: str, edge: str) -> int:
    return sum(1 for r in emu.request_log() if r["method"] == method and r["path"].endswith(edge))


def fail(fn: Callable[[], Any]) -> errors.HandoverError:
    with pytest.raises(errors.HandoverError) as info:
        fn()
    return info.value


def buc(page_id: str, call_count: int, regain_minutes: float) -> str:
    return json.dumps({page_id: [{"type": "messenger", "call_count": call_count, "total_cputime": 1,
                                  "total_time": 1, "estimated_time_to_regain_access": regain_minutes}]})


def throttled(emu: Emulator, method: str, count: int, code: int, regain_minutes: float) -> Dict[str, Any]:
    return {"match": {"method": method}, "count": count, "action": {
        "type": "graph_error", "status": 400,
        "headers": {"X-Business-Use-Case-Usage": buc(emu.page_id, 100, regain_minutes)},
        "error": {"message": f"(#{code}) Calls to this api have exceeded the rate limit.", "code": code,
                  "type": "OAuthException", "fbtrace_id": "Athrottled"}}}


# ----------------------------------------------------------------- 5xx bursts

@pytest.mark.parametrize("n", [1, 2, 3])
def test_get_recovers_after_n_retries(emulator: Emulator, n: int) -> None:
    emulator.inject_fault({"match": {"method": "GET"}, "count": n,
                           "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
    owner = fast(emulator).thread_owner(PSID)
    assert owner is not None and owner.app_id == emulator.primary.app_id
    assert [r["status"] for r in emulator.request_log()] == [503] * n + [200]


def test_get_gives_up_after_max_retries(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"method": "GET"}, "count": 10,
                           "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
    err = fail(lambda: fast(emulator).thread_owner(PSID))
    assert isinstance(err, errors.ServerError) and err.kind == "server"
    assert (err.code, err.http_status, err.is_transient, err.fbtrace_id) == (2, 503, True, "Afault5xx")
    assert seen(emulator, "GET", "/thread_owner") == 4


# A POST that may have run is never sent twice: every fault, on all five
# thread-control POSTs, is in the shared scenarios (test_fault_scenarios.py).


# ----------------------------------------------- resets, delays, bad bodies

@pytest.mark.parametrize("kind", ["reset", "reset_mid_body"])
def test_get_retried_through_resets(emulator: Emulator, kind: str) -> None:
    emulator.inject_fault({"match": {"method": "GET"}, "count": 2, "action": {"type": kind}})
    assert fast(emulator).thread_owner(PSID) is not None
    assert len(emulator.request_log()) == 3
    emulator.clear_request_log()
    emulator.inject_fault({"match": {"method": "GET"}, "count": 10, "action": {"type": kind}})
    err = fail(lambda: fast(emulator).thread_owner(PSID))
    assert type(err) is errors.TransportError and err.kind == "transport"
    assert len(emulator.request_log()) == 4


def test_delay_past_the_timeout(emulator: Emulator) -> None:
    # A 20 s delay, so a loose 10 s bound still tells the timeout from the answer.
    emulator.inject_fault({"match": {"method": "GET"}, "action": {"type": "delay", "ms": 20_000}})
    started = time.monotonic()
    err = fail(lambda: fast(emulator, timeout=0.25, max_retries=0).thread_owner(PSID))
    assert time.monotonic() - started < 10
    assert isinstance(err, errors.TimeoutError) and isinstance(err, builtins.TimeoutError)
    assert isinstance(err, errors.TransportError) and err.kind == "transport"
    # A GET retries past one slow answer.
    emulator.inject_fault({"match": {"method": "GET"}, "action": {"type": "delay", "ms": 1500}})
    assert fast(emulator, timeout=0.25).thread_owner(PSID) is not None


@pytest.mark.parametrize("status,body,ctype", [
    (200, "{\"data\": [{\"thread_owner\": {\"app_id\": \"11", None),
    (200, "", None),
    (200, "[]", None),
    (400, HTML_502, "text/html"),
    (502, HTML_502, "text/html"),
    (504, "<html>Gateway Timeout</html>", "text/html"),
])
def test_malformed_bodies_are_protocol_errors(emulator: Emulator, status: int, body: str, ctype: Any) -> None:
    action: Dict[str, Any] = {"type": "malformed", "status": status, "body": body}
    if ctype:
        action["content_type"] = ctype
    emulator.inject_fault({"count": 10, "action": action})
    err = fail(lambda: fast(emulator, max_retries=0).thread_owner(PSID))
    # Every HTTP 5xx is `server`, whatever its body (DESIGN's error table).
    if status >= 500:
        assert type(err) is errors.ServerError and err.kind == "server"
    else:
        assert isinstance(err, errors.ProtocolError) and err.kind == "protocol"
    assert err.http_status == status
    assert "<html" not in str(err)


def test_html_502_is_retried_for_a_get(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"method": "GET"}, "count": 2,
                           "action": {"type": "malformed", "status": 502, "content_type": "text/html", "body": HTML_502}})
    assert fast(emulator).thread_owner(PSID) is not None
    assert len(emulator.request_log()) == 3


# ----------------------------------------------------------- rate limiting

@pytest.mark.parametrize("code", [613, 80006])
def test_short_regain_is_waited_out(emulator: Emulator, code: int) -> None:
    emulator.inject_fault(throttled(emulator, "GET", 2, code, 0.005))  # 300 ms
    started = time.monotonic()
    assert fast(emulator).thread_owner(PSID) is not None
    assert 0.55 <= time.monotonic() - started < 5
    assert [r["error_code"] for r in emulator.request_log()] == [code, code, None]


@pytest.mark.parametrize("code", [613, 80006])
async def test_long_regain_raises_at_once(emulator: Emulator, code: int) -> None:
    emulator.inject_fault(throttled(emulator, "GET", 5, code, 5.0))
    async with emulator.async_client(retry_base_delay=0.005) as client:
        started = time.monotonic()
        with pytest.raises(errors.RateLimitError) as info:
            await client.thread_owner(PSID)
        assert time.monotonic() - started < 10, "not the 300 s regain"
        err = info.value
        assert (err.kind, err.code, err.retry_after) == ("rate_limit", code, 300)
        assert err.usage is not None
        assert len(emulator.request_log()) == 1
        # It knows now: a POST is refused before sending.
        with pytest.raises(errors.RateLimitError) as info2:
            await client.take_thread_control(PSID)
        assert info2.value.retry_after is not None and 290 < info2.value.retry_after <= 300
        assert len(emulator.request_log()) == 1


def test_throttled_post_is_resent_and_runs_once(emulator: Emulator) -> None:
    emulator.inject_fault(throttled(emulator, "POST", 2, 80006, 0.002))
    fast(emulator).pass_thread_control_to_page_inbox(PSID, "busy")
    assert seen(emulator, "POST", "/pass_thread_control") == 3
    assert [r["status"] for r in emulator.request_log()].count(200) == 1
    assert emulator.state()["threads"][PSID]["owner_role"] == "page_inbox"


def test_retry_after_is_honoured(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"method": "GET"}, "action": {
        "type": "graph_error", "status": 400, "headers": {"Retry-After": "1"},
        "error": {"message": "(#4) Application request limit reached", "code": 4}}})
    started = time.monotonic()
    assert fast(emulator).thread_owner(PSID) is not None
    assert 0.95 <= time.monotonic() - started < 4
    emulator.clear_request_log()
    emulator.inject_fault({"action": {"type": "graph_error", "status": 400, "headers": {"Retry-After": "30"},
                                      "error": {"message": "(#17) User request limit reached", "code": 17}}})
    err = fail(lambda: fast(emulator, max_retry_wait=2).thread_owner(PSID))
    assert isinstance(err, errors.RateLimitError) and err.retry_after == 30
    assert len(emulator.request_log()) == 1


def test_usage_at_100_percent_waits_or_refuses_before_sending(emulator: Emulator) -> None:
    ok = json.dumps({"data": [{"thread_owner": {"app_id": emulator.primary.app_id}}]})
    client = fast(emulator)
    emulator.inject_fault({"action": {"type": "status", "status": 200, "body": ok,
                                      "headers": {"X-Business-Use-Case-Usage": buc(emulator.page_id, 100, 0.4 / 60)}}})
    client.thread_owner(PSID)
    assert client.last_usage is not None
    started = time.monotonic()
    client.take_thread_control(PSID)
    assert time.monotonic() - started >= 0.3, "waited for the announced regain"
    # 100% without a regain time, and a client that will not wait a minute: refused, nothing sent.
    impatient = fast(emulator, max_retry_wait=5)
    emulator.inject_fault({"action": {"type": "status", "status": 200, "body": ok,
                                      "headers": {"X-Business-Use-Case-Usage": buc(emulator.page_id, 100, 0)}}})
    impatient.thread_owner(PSID)
    emulator.clear_request_log()
    err = fail(lambda: impatient.pass_thread_control_to_page_inbox(PSID))
    assert isinstance(err, errors.RateLimitError) and err.retry_after is not None and err.retry_after > 5
    assert emulator.request_log() == []


# ------------------------------------------------------------------ secrets

def test_no_string_the_package_produces_carries_a_secret(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token, secret = emulator.primary.token, emulator.primary.secret
    client = fast(emulator, app_secret=secret, timeout=0.3, max_retry_wait=2)
    errs: List[BaseException] = []

    def provoke(fault: Any, fn: Callable[[], Any]) -> None:
        if fault:
            emulator.inject_fault(fault)
        with pytest.raises(Exception) as info:
            fn()
        errs.append(info.value)

    def graph(code: int, msg: str) -> Dict[str, Any]:
        return {"action": {"type": "graph_error", "error": {"message": msg, "code": code, "fbtrace_id": "Ax"}}}

    client.thread_owner(PSID)
    provoke(graph(100, f"(#100) bad access_token={token}"), lambda: client.thread_owner(PSID))
    provoke(None, lambda: client.conversations(fields=["no_such_field"]).next_page())
    provoke(graph(190, f"Error validating access token {token}"), lambda: client.thread_owner(PSID))
    provoke(None, lambda: mh.Client(token + "X", base_url=emulator.url).thread_owner(PSID))
    provoke(graph(10, f"(#10) no permission {token}"), lambda: client.thread_owner(PSID))
    client.pass_thread_control(PSID, emulator.secondary.app_id)
    provoke(None, lambda: client.pass_thread_control(PSID, emulator.secondary.app_id))  # thread_control
    client.take_thread_control(PSID)
    provoke(graph(368, f"(#368) abusive {token}"), lambda: client.take_thread_control(PSID))
    provoke({"count": 4, "action": {"type": "status", "status": 500, "body": json.dumps(
        {"error": {"message": f"unknown {token}", "code": 1, "is_transient": True}})}}, lambda: client.thread_owner(PSID))
    provoke({"count": 4, "action": {"type": "reset"}}, lambda: client.thread_owner(PSID))
    provoke({"action": {"type": "reset_mid_body"}}, lambda: client.take_thread_control(PSID))
    provoke({"action": {"type": "delay", "ms": 800}}, lambda: client.take_thread_control(PSID))
    with refusing_socket() as closed_url:
        provoke(None, lambda: mh.Client(token, app_secret=secret, base_url=closed_url, max_retries=0).thread_owner(PSID))
    provoke({"count": 4, "action": {"type": "malformed", "status": 502, "content_type": "text/html",
                                    "body": f"<html>Bearer {token}</html>"}}, lambda: client.thread_owner(PSID))
    provoke({"action": {"type": "malformed", "status": 200, "body": f"{{\"data\": [\"{token}"}},
            lambda: client.thread_owner(PSID))
    # Bad arguments, with the secrets as the bad values.
    provoke(None, lambda: client.thread_owner(f"{token}/x"))
    provoke(None, lambda: client.pass_thread_control(PSID, token))
    provoke(None, lambda: client.take_thread_control(PSID, token * 10))
    provoke(None, lambda: mh.Client(token, base_url=f"http://{secret}.example.com/{token}"))
    provoke(None, lambda: mh.Client(token + "\n"))
    provoke(None, lambda: mh.Client(token, page_id=f"{secret}/x"))
    # Rate limit last (the client then refuses before sending).
    emulator.inject_fault({"action": {"type": "graph_error", "status": 400,
                                      "headers": {"X-Business-Use-Case-Usage": buc(emulator.page_id, 100, 10)},
                                      "error": {"message": f"(#80006) too many calls {token}", "code": 80006}}})
    provoke(None, lambda: client.thread_owner(PSID))
    provoke(None, lambda: client.take_thread_control(PSID))

    kinds = {getattr(e, "kind", None) for e in errs}
    assert {"invalid_parameter", "auth", "permission", "thread_control", "rate_limit", "blocked", "server",
            "transport", "protocol"} <= kinds, kinds
    assert any(isinstance(e, (ValueError, TypeError)) for e in errs)

    texts: List[str] = [repr(client), str(client), repr(emulator), repr(emulator.primary), str(client.last_usage)]
    blobs: List[bytes] = []
    pager = fast(emulator).conversations(page_size=3)
    texts.append(repr(pager))
    page = pager.next_page()
    texts += [repr(pager), repr(page), repr(page.items if page else None)]
    for e in errs:
        texts += [str(e), repr(e), repr(vars(e)), repr(e.args), repr(e.__cause__), repr(e.__context__)]
        if isinstance(e, errors.HandoverError):
            blob = pickle.dumps(e)
            blobs.append(blob)
            again = pickle.loads(blob)
            texts += [str(again), repr(vars(again))]
    texts += [json.dumps(r) for r in emulator.request_log()]
    # The scan means something only if the core's own records were captured.
    core = [r for r in caplog.records if r.name == "messenger_handover"]
    assert any(r.levelno == logging.DEBUG for r in core) and any(r.levelno == logging.WARNING for r in core)
    texts += [r.getMessage() for r in caplog.records] + [repr(vars(r)) for r in core]
    texts.append(caplog.text)
    for s in (token, secret):
        for t in texts:
            assert s not in t, f"a secret leaked into: {t[:300]}"
        for b in blobs:
            assert s.encode() not in b
    for r in emulator.request_log():
        assert not r["token_in_query"] and "access_token" not in r["query"]


def test_debug_logging_of_a_subprocess_carries_no_secret() -> None:
    """Rust-side logs, if any ever reach stderr (RUST_LOG=trace), and Python
    logging at DEBUG, in a process that provokes errors."""
    code = textwrap.dedent("""
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        from messenger_handover.testing import Emulator
        with Emulator() as emu:
            c = emu.client(app_secret=emu.primary.secret, retry_base_delay=0.001, timeout=0.3)
            c.thread_owner("1")
            for f in ({"type": "reset"}, {"type": "status", "status": 503}, {"type": "delay", "ms": 600}):
                emu.inject_fault({"count": 4, "action": f})
                try:
                    c.thread_owner("1")
                except Exception as e:
                    logging.debug("error: %r", e)
            print(emu.primary.token)
            print(emu.primary.secret)
    """)
    env = {**os.environ, "RUST_LOG": "trace", "PYTHONASYNCIODEBUG": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    token, secret = proc.stdout.split()[-2:]
    assert token not in proc.stderr and secret not in proc.stderr
    assert ":messenger_handover:" in proc.stderr and "-> 503 (server)" in proc.stderr, "the core's records were there"


def test_plain_http_to_a_non_loopback_host_is_refused_before_connecting() -> None:
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 9))
        own_ip = probe.getsockname()[0]
    except OSError:
        own_ip = None
    finally:
        probe.close()
    urls = ["http://graph.facebook.com", "http://10.0.0.1", "http://169.254.169.254", "http://0.0.0.0:80",
            "http://localhost.example.com", "http://127.0.0.1@example.com"]
    if own_ip and not own_ip.startswith("127."):
        urls.append(f"http://{own_ip}:{port}")
    for url in urls:
        for cls in (mh.Client, mh.AsyncClient):
            with pytest.raises(ValueError) as info:
                cls("EAAGplain-http-token-0123456789", base_url=url)
            assert "base_url" in str(info.value)
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()
    assert mh.Client("EAAGtoken", base_url="http://127.0.0.1:9").base_url.startswith("http://127.0.0.1")


# ---------------------------------------------------- fork, cancel, exit

@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_use_each_post_sent_once(emulator: Emulator) -> None:
    client = fast(emulator)
    assert client.thread_owner(PSID) is not None
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            client.pass_thread_control_to_page_inbox("7001")
            client.take_thread_control("7001")

            async def go() -> None:
                async with emulator.async_client(retry_base_delay=0.005) as ac:
                    await ac.pass_thread_control_to_page_inbox("7002")

            asyncio.run(go())
            os.write(w, b"ok")
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    answer = os.read(r, 10)
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0 and answer == b"ok"
    posts = [(r["path"].rsplit("/", 1)[-1], r["body"]["recipient"]["id"]) for r in emulator.request_log()
             if r["method"] == "POST"]
    assert sorted(posts) == sorted([("pass_thread_control", "7001"), ("take_thread_control", "7001"),
                                    ("pass_thread_control", "7002")]), posts
    client.take_thread_control("7002")  # the parent still works
    assert emulator.state()["threads"]["7002"]["owner_role"] == "primary"


async def test_cancel_a_post_waiting_out_a_throttle_sends_nothing_more(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"method": "POST"}, "count": 5, "action": {
        "type": "graph_error", "status": 400, "headers": {"Retry-After": "2"},
        "error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613}}})
    async with emulator.async_client(retry_base_delay=0.005) as client:
        task = asyncio.ensure_future(client.pass_thread_control_to_page_inbox(PSID))
        sent = time.monotonic()
        await asyncio.sleep(0.3)  # the first refusal came back; the client sleeps 2 s
        assert seen(emulator, "POST", "/pass_thread_control") == 1
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 2, "not the rest of the 2 s wait"
        # Watch past the moment the retry would have gone out (2 s after the first).
        await asyncio.sleep(max(0.0, sent + 3.0 - time.monotonic()))
        assert seen(emulator, "POST", "/pass_thread_control") == 1, "no orphan retry after the cancel"
        assert emulator.state()["threads"].get(PSID, {}).get("owner_role") in (None, "primary")
        emulator.clear_faults()
        assert await client.thread_owner(PSID) is not None  # still usable


def test_connection_refused_is_a_transport_error_get_and_post() -> None:
    with refusing_socket() as url:
        client = mh.Client("EAAGrefused-token-0123456789", base_url=url, max_retries=0)
        for call in (lambda: client.thread_owner(PSID), lambda: client.take_thread_control(PSID)):
            err = fail(call)
            assert type(err) is errors.TransportError and err.kind == "transport", repr(err)
            assert not isinstance(err, builtins.TimeoutError)


def test_interpreter_exit_with_calls_mid_backoff() -> None:
    code = textwrap.dedent("""
        import asyncio, threading, time
        from messenger_handover.testing import Emulator
        emu = Emulator()
        emu.inject_fault({"count": 1000, "action": {"type": "status", "status": 503}})
        client = emu.client(retry_base_delay=20, max_retries=5)
        for i in range(4):
            threading.Thread(target=lambda i=i: client.thread_owner(str(i + 1)), daemon=True).start()
        async def main():
            ac = emu.async_client(retry_base_delay=20, max_retries=5)
            for i in range(20):
                asyncio.ensure_future(ac.thread_owner(str(i + 1)))
                asyncio.ensure_future(ac.take_thread_control(str(i + 1)))
            await asyncio.sleep(0.5)
        asyncio.run(main())
        print("exiting", len(emu.request_log()), flush=True)
    """)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("exiting")
    assert time.monotonic() - started < 15, "no wait for the 20 s backoffs"
    assert "panic" not in proc.stderr.lower(), proc.stderr


async def test_close_stops_pagers_too(emulator: Emulator) -> None:
    client = emulator.async_client()
    pager = client.conversations(page_size=10)
    await client.aclose()
    with pytest.raises(RuntimeError):
        await pager.next_page()
    assert emulator.request_log() == []


async def test_emulator_limiter_under_60_concurrent_calls(emulator: Emulator) -> None:
    emulator.set_rate_limit(enabled=True, max_calls=20, window_secs=60, code=80006, regain_minutes=2)
    async with emulator.async_client(retry_base_delay=0.005, max_retry_wait=10) as client:
        results = await asyncio.gather(*(client.thread_owner(str(5_000_000 + i)) for i in range(60)),
                                       return_exceptions=True)
        limited = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, errors.RateLimitError) for e in limited), limited
        assert len(results) - len(limited) == 20, "exactly the budget succeeds"
        for e in limited:
            assert isinstance(e, errors.RateLimitError) and e.retry_after is not None
            assert 10 < e.retry_after <= 120, e.retry_after
        sent = len(emulator.request_log())
        assert 20 <= sent <= 60, "each call sent at most once: a 2 min regain is not waited out"
        with pytest.raises(errors.RateLimitError):
            await client.thread_owner(PSID)
        assert len(emulator.request_log()) == sent, "refused client-side"
