"""Soak run of the Python AsyncClient against the in-process emulator.

N calls (thread_owner GET, pass/take POST) with a fixed number in flight,
then a paging run over every conversation of the Page. Prints figures; it is
not a timed test. Exit status 1 when any call failed.

    python soak/soak.py --calls 200000 --in-flight 256 --conversations 100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import List, Tuple

from messenger_handover import AsyncClient, HandoverError
from messenger_handover.testing import Emulator


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_sockets() -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def connections(port: int) -> Tuple[int, int]:
    """Established TCP connections (client side, server side) of `port`."""
    client = server = 0
    for name in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = open(name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) < 4 or cols[3] != "01":
                continue
            if int(cols[2].rsplit(":", 1)[1], 16) == port:
                client += 1
            elif int(cols[1].rsplit(":", 1)[1], 16) == port:
                server += 1
    return client, server


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def change(a: int, b: int) -> float:
    return (b - a) * 100.0 / a if a else 0.0


class Tally:
    def __init__(self) -> None:
        self.done = 0
        self.errors = 0
        self.first: List[str] = []


async def run_calls(client: AsyncClient, calls: int, in_flight: int, first_psid: int, tally: Tally) -> None:
    """Each worker owns one thread (PSID) and cycles GET, pass to the Page
    Inbox, GET, take: every call is valid whatever the interleaving."""
    remaining = [calls]

    async def worker(w: int) -> None:
        psid = str(first_psid + w)
        step = 0
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                s = step % 4
                if s in (0, 2):
                    await client.thread_owner(psid)
                elif s == 1:
                    await client.pass_thread_control_to_page_inbox(psid, "soak")
                else:
                    await client.take_thread_control(psid)
                step += 1
            except HandoverError as e:
                tally.errors += 1
                if len(tally.first) < 5:
                    tally.first.append(f"{e.kind} {e}")
                step = 0
                try:
                    await client.take_thread_control(psid)
                except HandoverError:
                    pass
            tally.done += 1

    await asyncio.gather(*(worker(w) for w in range(in_flight)))


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--in-flight", type=int, default=256)
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--page-size", type=int, default=100)
    args = ap.parse_args()

    import messenger_handover

    emu = Emulator(conversations=args.conversations, log_requests=False)
    client = emu.async_client()
    print(f"soak (python {sys.version.split()[0]}, messenger_handover {messenger_handover.__version__}): "
          f"{args.calls} calls, {args.in_flight} in flight, against {emu.url}")
    print(f"sockets at start: {open_sockets()}")

    tally = Tally()
    warmup = max(args.calls // 10, args.in_flight)
    started = time.perf_counter()
    await run_calls(client, warmup, args.in_flight, 10_000_000, tally)
    rss_warm = rss_kib()
    peak = [rss_warm]

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.25)
            peak[0] = max(peak[0], rss_kib())

    sampler = asyncio.ensure_future(sample())
    await run_calls(client, args.calls - warmup, args.in_flight, 20_000_000, tally)
    elapsed = time.perf_counter() - started
    sampler.cancel()
    rss_end = rss_kib()
    sockets_after = open_sockets()
    conns = connections(emu.port)

    print(f"calls: {tally.done}")
    print(f"errors: {tally.errors}")
    for e in tally.first:
        print(f"  error: {e}")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"calls/s: {tally.done / elapsed:.0f}")
    print(f"open sockets after the run: {sockets_after} (client pool + emulator side, which holds 2 fds per "
          f"connection; at most 3 x {args.in_flight} + a few)")
    print(f"  established connections (client side, server side): {conns}")
    print(f"rss after warm-up ({warmup} calls): {mib(rss_warm)}")
    print(f"rss at the end: {mib(rss_end)} ({change(rss_warm, rss_end):+.1f}%)")
    print(f"rss peak after warm-up: {mib(max(peak[0], rss_end))}")

    # Paging: every conversation (each folder on each platform), page by page.
    rss_before = rss_kib()
    t0 = time.perf_counter()
    items = pages = 0
    rss_paging_warm = rss_paging_peak = 0
    paging_error = None
    pager = None
    try:
        for folder in ("inbox", "other", "page_done", "spam"):
            for platform in ("messenger", "instagram"):
                pager = client.conversations(folder=folder, platform=platform, page_size=args.page_size)
                async for page in pager.pages():
                    items += len(page.items)
                    pages += 1
                    if pages == 10:
                        rss_paging_warm = rss_kib()
                    if pages % 50 == 0:
                        rss_paging_peak = max(rss_paging_peak, rss_kib())
    except HandoverError as e:
        paging_error = e
    rss_paging_end = rss_kib()
    rss_paging_warm = rss_paging_warm or rss_before
    print(f"paging: {items} conversations in {pages} pages, {time.perf_counter() - t0:.2f} s")
    if paging_error is not None:
        print(f"paging error: {paging_error.kind} {paging_error}")
    print(f"paging rss: before {mib(rss_before)}, after 10 pages {mib(rss_paging_warm)}, end {mib(rss_paging_end)} "
          f"({change(rss_paging_warm, rss_paging_end):+.1f}% from 10 pages), peak {mib(max(rss_paging_peak, rss_paging_end))}")

    await client.aclose()
    await asyncio.sleep(0.5)
    # A pager holds the native client (and its pool) until it is released.
    print(f"open sockets after aclose(), the last pager still referenced: {open_sockets()}")
    del pager, client
    import gc

    gc.collect()
    await asyncio.sleep(0.5)
    print(f"open sockets after the client and pagers are released: {open_sockets()}")
    emu.close()
    print(f"open sockets after the emulator shut down: {open_sockets()}")

    paging_ok = paging_error is None and items == args.conversations
    flat = abs(change(rss_warm, rss_end)) <= 10.0
    print(f"verdict: errors {'none' if tally.errors == 0 else 'SOME'} / rss flat within 10%: "
          f"{'yes' if flat else 'NO'} / paging complete: {'yes' if paging_ok else 'NO'}")
    return 0 if tally.errors == 0 and paging_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
