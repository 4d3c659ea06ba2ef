"""What a Python user sees of the core's HTTP attempts through the standard
``logging`` logger ``messenger_handover``, and the ``messenger-handover``
console script (the same Rust command as the binary), against the emulator."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import pytest

from messenger_handover import BatchOp, __version__
from messenger_handover.testing import Emulator

PSID = "1234567890"
UNAVAILABLE = json.dumps({"error": {"message": "Service temporarily unavailable", "type": "OAuthException",
                                    "code": 2, "is_transient": True, "fbtrace_id": "Aobserve5xx"}})
SCRIPT = Path(sys.executable).parent / "messenger-handover"


def retried_call(emu: Emulator) -> None:
    emu.inject_fault({"match": {"method": "GET"}, "count": 2,
                      "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
    emu.client(app_secret=emu.primary.secret, retry_base_delay=0.001).thread_owner(PSID)


def ours(records: List[logging.LogRecord]) -> List[logging.LogRecord]:
    return [r for r in records if r.name == "messenger_handover"]


def assert_two_retries(records: List[logging.LogRecord]) -> None:
    """Three attempts (DEBUG each) with a WARNING retry event between them."""
    assert [(r.levelname, attr(r, "event")) for r in records] == [
        ("DEBUG", "http.attempt.end"), ("WARNING", "http.retry"),
        ("DEBUG", "http.attempt.end"), ("WARNING", "http.retry"),
        ("DEBUG", "http.attempt.end"),
    ], [r.getMessage() for r in records]


def attr(record: logging.LogRecord, name: str) -> Any:
    return getattr(record, name, None)


def test_debug_logs_every_attempt_and_warns_of_every_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="messenger_handover")
    with Emulator() as emu:
        retried_call(emu)
        records = ours(caplog.records)
        assert_two_retries(records)
        ends = [r for r in records if attr(r, "event") == "http.attempt.end"]
        for i, end in enumerate(ends):
            assert attr(end, "http.request.method") == "GET"
            assert attr(end, "url.path").endswith(f"/{emu.page_id}/thread_owner")
            assert attr(end, "server.address") == "127.0.0.1"
            assert attr(end, "server.port") == int(emu.url.rsplit(":", 1)[1])
            assert attr(end, "http.request.resend_count") == (i or None)
        for failed in ends[:2]:
            assert attr(failed, "http.response.status_code") == 503
            assert attr(failed, "error.type") == "server"
            assert attr(failed, "graph.fbtrace_id") == "Aobserve5xx"
        assert attr(ends[2], "http.response.status_code") == 200 and attr(ends[2], "error.type") is None
        assert isinstance(attr(ends[2], "graph.usage.call_count"), float)
        retries = [r for r in records if attr(r, "event") == "http.retry"]
        assert [attr(r, "http.request.resend_count") for r in retries] == [1, 2]
        assert all(isinstance(attr(r, "graph.wait_ms"), int) for r in retries)
        assert retries[0].getMessage().startswith("retrying GET /")
        scan(emu, [r.getMessage() for r in records] + [repr(vars(r)) for r in records] + [caplog.text])


def scan(emu: Emulator, texts: List[str]) -> None:
    assert texts
    for t in texts:
        for secret in (emu.primary.token, emu.primary.secret, "appsecret_proof", "?", PSID):
            assert secret not in t, f"{secret!r} in {t[:300]}"


def test_levels_filter_and_the_default_level_passes_retries_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="messenger_handover")
    with Emulator() as emu:
        retried_call(emu)
        assert [attr(r, "event") for r in ours(caplog.records)] == ["http.retry", "http.retry"]
        caplog.clear()
        caplog.set_level(logging.ERROR, logger="messenger_handover")
        retried_call(emu)
        assert ours(caplog.records) == []


def test_a_retried_batch_counts_resends_and_warns_of_each_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="messenger_handover")
    with Emulator() as emu:
        # The whole batch request fails once (503), then one operation's slot does.
        emu.inject_fault({"match": {"method": "POST", "in_batch": False},
                          "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
        emu.inject_fault({"match": {"batch_index": 1},
                          "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
        client = emu.client(retry_base_delay=0.001)
        results = client.batch([BatchOp.thread_owner(p) for p in ("1111", "2222", "3333")])
        assert not any(isinstance(r, Exception) for r in results), results
        records = ours(caplog.records)
        assert_two_retries(records)
        ends = [r for r in records if attr(r, "event") == "http.attempt.end"]
        assert [attr(r, "http.request.resend_count") for r in ends] == [None, 1, 2]
        assert all(attr(r, "http.request.method") == "POST" and attr(r, "url.path") == "/" for r in ends)
        assert attr(ends[0], "http.response.status_code") == 503
        retries = [r for r in records if attr(r, "event") == "http.retry"]
        assert [attr(r, "http.request.resend_count") for r in retries] == [1, 2]
        assert [attr(r, "graph.batch.operations") for r in retries] == [3, 1]
        assert all(isinstance(attr(r, "graph.wait_ms"), int) and attr(r, "error.type") == "server" for r in retries)
        assert retries[0].getMessage().startswith("retrying POST / in ")
        assert retries[0].getMessage().endswith("after a server error (3 batch operations)")
        texts = [r.getMessage() for r in records] + [repr(vars(r)) for r in records] + [caplog.text]
        for t in texts:
            assert emu.primary.token not in t and "2222" not in t


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_silent_until_logging_is_configured_then_basic_config_shows_it() -> None:
    code = """
        import json, logging, sys
        from messenger_handover.testing import Emulator
        body = json.dumps({"error": {"message": "down", "code": 2, "is_transient": True}})
        with Emulator() as emu:
            c = emu.client(retry_base_delay=0.001)
            def call():
                emu.inject_fault({"count": 1, "action": {"type": "status", "status": 503, "body": body}})
                c.thread_owner("1")
            call()  # no handler anywhere: not even logging.lastResort speaks
            print("--configured--", file=sys.stderr, flush=True)
            logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
            call()
    """
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    before, after = proc.stderr.split("--configured--\n")
    assert before == ""
    lines = [ln for ln in after.splitlines() if " messenger_handover " in ln]
    assert [ln.split()[0] for ln in lines] == ["DEBUG", "WARNING", "DEBUG"], after
    assert "-> 503 (server)" in lines[0] and "-> 200" in lines[2]


# ----------------------------------------------------------- console script

def cli(emu: Emulator, *args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAGE_ACCESS_TOKEN": token or emu.primary.token}
    env.pop("APP_SECRET", None)
    return subprocess.run([str(SCRIPT), "--base-url", emu.url, "--page-id", emu.page_id, *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_console_script_version_is_the_package_version() -> None:
    proc = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == f"messenger-handover {__version__}"


def test_console_script_runs_the_command_against_the_emulator() -> None:
    with Emulator(conversations=5) as emu:
        owner = cli(emu, "owner", PSID, "--json")
        assert owner.returncode == 0, owner.stderr
        assert json.loads(owner.stdout)["psid"] == PSID
        passed = cli(emu, "pass", PSID, "--to", "inbox", "--json")
        assert passed.returncode == 0, passed.stderr
        assert emu.state()["threads"][PSID]["owner_role"] == "page_inbox"
        convs = cli(emu, "conversations", "--json")
        assert convs.returncode == 0, convs.stderr
        rows: List[Dict[str, Any]] = [json.loads(ln) for ln in convs.stdout.splitlines()]
        assert rows and all("id" in r for r in rows)
        bad = cli(emu, "owner", PSID, token="EAAbogus" + "x" * 40)
        assert bad.returncode == 4, (bad.returncode, bad.stderr)
        assert bad.stderr.count("\n") == 1 and "auth" in bad.stderr and "Traceback" not in bad.stderr
        for proc in (owner, passed, convs, bad):
            assert emu.primary.token not in proc.stdout + proc.stderr


def test_console_script_ctrl_c_exits_without_a_traceback() -> None:
    import signal

    proc = subprocess.Popen([str(SCRIPT), "emulator"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        assert started["url"].startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130), (proc.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
