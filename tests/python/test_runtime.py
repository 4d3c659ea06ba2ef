"""The runtime under pressure: concurrency, cancellation, Ctrl-C, fork, exit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from messenger_handover import AsyncClient, ThreadOwner
from messenger_handover.testing import Emulator

PSID = "1234567890"


async def test_200_concurrent_calls(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        owners = await asyncio.gather(*(client.thread_owner(str(10_000 + i)) for i in range(200)))
    assert len(owners) == 200 and all(isinstance(o, ThreadOwner) for o in owners)
    assert len(emulator.request_log()) == 200


async def test_cancellation_returns_at_once(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"path_contains": "thread_owner"}, "count": 2, "action": {"type": "delay", "ms": 30_000}})
    async with emulator.async_client(timeout=60) as client:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.thread_owner(PSID), timeout=0.2)
        assert time.monotonic() - started < 10, "not the 30 s delay"
        task = asyncio.ensure_future(client.thread_owner("42"))
        await asyncio.sleep(0.1)
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 1
        # The client is still usable once the fault is used up.
        assert (await client.thread_owner("43")) is not None


async def test_cancel_mid_retry_backoff(emulator: Emulator) -> None:
    # A 503 asking for 2 s: the retry is due exactly 2 s after the first answer.
    emulator.inject_fault({"match": {"method": "GET"}, "count": 10, "action": {
        "type": "status", "status": 503, "headers": {"Retry-After": "2"},
        "body": '{"error":{"message":"Service temporarily unavailable","code":2,"is_transient":true}}'}})
    async with emulator.async_client(max_retries=10, retry_base_delay=0.005) as client:
        task = asyncio.ensure_future(client.thread_owner(PSID))
        sent = time.monotonic()
        await asyncio.sleep(0.3)
        assert len(emulator.request_log()) == 1, "the first attempt, then the 2 s wait"
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 2, "not the rest of the wait"
        # Watch past the moment the retry would have gone out, the client
        # still open (closing it would stop an orphan retry too).
        await asyncio.sleep(max(0.0, sent + 3.0 - time.monotonic()))
        assert len(emulator.request_log()) == 1, "no request after the cancel"


async def test_pager_cancellation(emulator: Emulator) -> None:
    emulator.inject_fault({"match": {"path_contains": "conversations"}, "action": {"type": "delay", "ms": 30_000}})
    async with emulator.async_client() as client:
        pager = client.conversations()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pager.next_page(), 0.2)
        page = await asyncio.wait_for(pager.next_page(), 5)  # the same page, fetched again
        assert page is not None and page.items


def run_python(code: str, timeout: float = 30, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("value", ["", "two", "0", "-1"])
def test_a_bad_worker_thread_count_is_a_value_error(value: str) -> None:
    # tokio itself panics on it (a PanicException, an abort in Node).
    proc = run_python(
        """
        from messenger_handover import Client
        try:
            Client(access_token="EAAtoken", page_id="1")
        except ValueError as e:
            print(type(e).__name__, e.argument, e)
        """,
        env={"TOKIO_WORKER_THREADS": value},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ValueError TOKIO_WORKER_THREADS "), proc.stdout + proc.stderr
    assert "positive integer" in proc.stdout and "Panic" not in proc.stdout + proc.stderr


def test_a_good_worker_thread_count_runs_calls() -> None:
    proc = run_python(
        """
        import asyncio
        from messenger_handover.testing import Emulator
        with Emulator() as emu:
            print(emu.client().thread_owner("1") is not None)
            async def go():
                async with emu.async_client() as c:
                    return await c.thread_owner("2")
            print(asyncio.run(go()) is not None)
        """,
        env={"TOKIO_WORKER_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"], proc.stdout


def test_ctrl_c_interrupts_a_blocking_call() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from messenger_handover.testing import Emulator
            with Emulator() as emu:
                emu.inject_fault({"match": {"path_contains": "thread_owner"}, "action": {"type": "delay", "ms": 30000}})
                client = emu.client(timeout=60)
                print("ready", flush=True)
                started = time.monotonic()
                try:
                    client.thread_owner("1")
                except KeyboardInterrupt:
                    print("interrupted after %.1f" % (time.monotonic() - started), flush=True)
                    sys.exit(0)
                sys.exit(1)
        """)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "interrupted after" in out and float(out.split()[-1]) < 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_makes_a_call(emulator: Emulator) -> None:
    client = emulator.client()
    assert client.thread_owner(PSID) is not None  # the parent has a pool and a runtime
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(r)
            owner = client.thread_owner("555")
            pager_items = len(client.conversations(page_size=5).next_page().items)  # type: ignore[union-attr]

            async def go() -> object:
                async with emulator.async_client() as ac:
                    return await ac.thread_owner("556")

            async_owner = asyncio.run(go())
            os.write(w, f"{owner.app_id if owner else None} {pager_items} {async_owner is not None}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    answer = os.read(r, 200).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    assert answer == f"{emulator.primary.app_id} 5 True"
    assert client.thread_owner(PSID) is not None  # and the parent still works


def test_interpreter_exit_with_calls_in_flight() -> None:
    proc = run_python("""
        import asyncio, threading
        from messenger_handover.testing import Emulator
        emu = Emulator()
        emu.inject_fault({"match": {"path_contains": "thread_owner"}, "count": 50, "action": {"type": "delay", "ms": 20000}})
        client = emu.client(timeout=60)
        for i in range(4):
            threading.Thread(target=client.thread_owner, args=(str(i + 1),), daemon=True).start()
        async def main():
            ac = emu.async_client()
            for i in range(10):
                asyncio.ensure_future(ac.thread_owner(str(i + 1)))
            await asyncio.sleep(0.2)
        asyncio.run(main())
        print("exiting")
    """, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert "exiting" in proc.stdout


def test_loop_without_add_reader(emulator: Emulator) -> None:
    # Windows' proactor loop has no add_reader: completions then come by one
    # call_soon_threadsafe per batch.
    class NoReader(asyncio.SelectorEventLoop):
        def add_reader(self, *args: object) -> None:  # type: ignore[override]
            raise NotImplementedError

    async def go() -> list:
        async with emulator.async_client() as client:
            return await asyncio.wait_for(
                asyncio.gather(*(client.thread_owner(str(20_000 + i)) for i in range(50))), 30
            )

    loop = NoReader()
    try:
        owners = loop.run_until_complete(go())
    finally:
        loop.close()
    assert len(owners) == 50 and all(isinstance(o, ThreadOwner) for o in owners)


def test_two_loops_on_one_thread(emulator: Emulator) -> None:
    # Each loop has its own mailbox: results go to the loop that awaits them,
    # whichever loop ran last on this thread.
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    clients = [emulator.async_client(), emulator.async_client()]
    try:
        for round_ in range(3):
            for loop, client in zip(loops, clients):

                async def go(client: AsyncClient = client) -> list:
                    calls = (client.thread_owner(str(30_000 + round_ * 10 + i)) for i in range(10))
                    return await asyncio.wait_for(asyncio.gather(*calls), 30)

                owners = loop.run_until_complete(go())
                assert len(owners) == 10 and all(isinstance(o, ThreadOwner) for o in owners)
    finally:
        for loop in loops:
            loop.close()
