"""The shared fault scenarios (tests/faults/scenarios.json, described in the
README beside it) through the blocking Python client, against the emulator:
the outcome, its kind, and how many requests the emulator saw."""

from __future__ import annotations

import builtins
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import messenger_handover as mh
from messenger_handover import errors
from messenger_handover.testing import Emulator

PATH = Path(__file__).resolve().parents[1] / "faults" / "scenarios.json"
SCENARIOS: List[Dict[str, Any]] = json.loads(PATH.read_text("utf-8"))["scenarios"]
PSID = "2468013579"
CASES: List[Tuple[Dict[str, Any], str]] = [(s, op) for s in SCENARIOS for op in s["operations"]]


def test_the_scenarios_load() -> None:
    assert len(SCENARIOS) >= 40 and len(CASES) >= 60, (len(SCENARIOS), len(CASES))


def call(client: mh.Client, op: str) -> None:
    if op == "conversations_page":
        client.conversations().next_page()
    elif op == "extend_thread_control":
        client.extend_thread_control(PSID, 60)
    elif op == "secondary_receivers":
        client.secondary_receivers()
    else:
        getattr(client, op)(PSID)


def run(client: mh.Client, op: str) -> Tuple[Optional[BaseException], float]:
    started = time.monotonic()
    try:
        call(client, op)
    except errors.HandoverError as e:
        return e, time.monotonic() - started
    return None, time.monotonic() - started


def check(what: str, expect: Dict[str, Any], err: Optional[BaseException], took: float) -> None:
    if "kind" in expect and expect["kind"] is None:
        assert err is None, f"{what}: expected success, got {err!r}"
    else:
        assert isinstance(err, errors.HandoverError), f"{what}: expected an error, the call succeeded"
        if "kind" in expect:
            assert err.kind == expect["kind"], f"{what}: {err!r}"
        if "timeout" in expect:
            assert isinstance(err, builtins.TimeoutError) is expect["timeout"], f"{what}: {err!r}"
            assert isinstance(err, errors.TimeoutError) is expect["timeout"], f"{what}: {err!r}"
        for key in ("http_status", "code"):
            if key in expect:
                assert getattr(err, key, None) == expect[key], f"{what}: {key} of {err!r}"
        if "retry_after" in expect:
            got = getattr(err, "retry_after", None)
            assert got is not None and abs(got - expect["retry_after"]) < 1e-6, f"{what}: retry_after {got}"
    if "min_elapsed_ms" in expect:
        assert took * 1000 >= expect["min_elapsed_ms"], f"{what}: took {took:.3f} s"
    if "max_elapsed_ms" in expect:
        assert took * 1000 < expect["max_elapsed_ms"], f"{what}: took {took:.3f} s, not at once"


@pytest.fixture(scope="module")
def emu() -> Any:
    with Emulator() as e:
        yield e


@pytest.mark.parametrize("scenario,op", CASES, ids=[f"{s['name']}-{op}" for s, op in CASES])
def test_scenario(emu: Emulator, scenario: Dict[str, Any], op: str) -> None:
    if scenario.get("pending"):
        pytest.skip(f"pending: {scenario['pending']}")
    emu.reset()
    for fault in scenario["faults"]:
        emu.inject_fault(fault)
    c = scenario.get("client") or {}
    kw: Dict[str, Any] = {"retry_base_delay": 0.005}
    if "max_retries" in c:
        kw["max_retries"] = c["max_retries"]
    if "timeout_ms" in c:
        kw["timeout"] = c["timeout_ms"] / 1000
    if "max_retry_wait_ms" in c:
        kw["max_retry_wait"] = c["max_retry_wait_ms"] / 1000
    if "max_response_bytes" in c:
        kw["max_response_bytes"] = c["max_response_bytes"]
    expect = scenario["expect"]
    what = f"{scenario['name']} / {op}"
    with emu.client(**kw) as client:
        err, took = run(client, op)
        check(what, expect, err, took)
        assert len(emu.request_log()) == expect["requests"], f"{what}: {emu.request_log()}"
        if "settle_ms" in expect:
            time.sleep(expect["settle_ms"] / 1000)
            assert len(emu.request_log()) == expect["requests"], f"{what}: after settling: {emu.request_log()}"
        if "owner" in expect:
            assert emu.state()["threads"][PSID]["owner"] == expect["owner"], what
        then = expect.get("then")
        if then:
            err, took = run(client, then["operation"])
            check(f"{what}, then {then['operation']}", then, err, took)
            assert len(emu.request_log()) == then["requests"], f"{what}, then: {emu.request_log()}"
