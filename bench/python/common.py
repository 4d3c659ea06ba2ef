"""Shared plumbing of the Python bench runners.

Every runner is a script: ``python <runner>.py --workload W --url U --token T
--page P --n N --concurrency C --fields a,b,c --page-size 100``. It runs one
workload in its own process and prints one JSON line (client, workload, n,
errors, seconds, rate, p50_ms/p99_ms, rss_mb = VmHWM of this process).
Kept free of heavy imports (no argparse, no asyncio at import time) so that
the cold-start workload measures the client library, not the harness.
"""

import json
import sys
import time

T0 = time.perf_counter()
# Untimed calls each driver makes first (connections opened, caches and JITs warm).
WARMUP = 0


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = {
        "workload": "",
        "url": "",
        "token": "",
        "page": "me",
        "n": 1000,
        "concurrency": 64,
        "fields": "id,updated_time,snippet",
        "page_size": 100,
        "target_apps": "1111111111111,2222222222222",
        "warmup": 0,
    }
    it = iter(argv)
    for k in it:
        v = next(it, "")
        key = k.lstrip("-").replace("-", "_")
        if key not in a:
            sys.exit(f"unknown argument {k}")
        a[key] = type(a[key])(v) if isinstance(a[key], int) else v
    a["url"] = a["url"].rstrip("/")
    a["fields"] = a["fields"].split(",")
    a["target_apps"] = a["target_apps"].split(",")
    global WARMUP
    WARMUP = a["warmup"]
    return a


def psid(i):
    """The PSID of call i: 1,000 distinct numeric ids, as every runner uses."""
    return str(7_000_000_000_000_000 + i % 1000)


def peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    idx = round((p / 100.0) * (len(sorted_values) - 1))
    return sorted_values[min(idx, len(sorted_values) - 1)]


def emit(client, a, n, seconds, errors, lat=None, **extra):
    out = {
        "client": client,
        "workload": a["workload"],
        "n": n,
        "errors": errors,
        "seconds": seconds,
        "rate": n / seconds if seconds else 0.0,
        "rss_mb": peak_rss_mb(),
    }
    if lat is not None:
        lat = sorted(lat)
        out["p50_ms"] = percentile(lat, 50)
        out["p99_ms"] = percentile(lat, 99)
    out.update(extra)
    print(json.dumps(out), flush=True)


def emit_cold(client, a, ms, errors):
    print(
        json.dumps(
            {
                "client": client,
                "workload": "cold",
                "n": 1,
                "errors": errors,
                "inproc_ms": ms,
                "rss_mb": peak_rss_mb(),
            }
        ),
        flush=True,
    )


_first_error = []


def note_error(e):
    if not _first_error:
        _first_error.append(e)
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


# ---- drivers -----------------------------------------------------------------


async def run_concurrent_async(n, concurrency, call, warm=True):
    """n calls of `await call(i)`, `concurrency` in flight (workers pull indices)."""
    import asyncio

    if warm and WARMUP:
        await run_concurrent_async(WARMUP, concurrency, call, warm=False)

    counter = iter(range(n))
    errors = 0

    async def worker():
        nonlocal errors
        for i in counter:
            try:
                await call(i)
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors += 1
                note_error(e)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, errors


async def run_sequential_async(n, call):
    for i in range(WARMUP):
        try:
            await call(i)
        except Exception as e:  # noqa: BLE001
            note_error(e)
    errors, lat = 0, []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        try:
            await call(i)
        except Exception as e:  # noqa: BLE001
            errors += 1
            note_error(e)
        lat.append((time.perf_counter() - t) * 1e3)
    return time.perf_counter() - start, errors, lat


def run_concurrent_threads(n, concurrency, call, warm=True):
    """n calls of `call(i)` on `concurrency` threads (blocking clients)."""
    import threading

    if warm and WARMUP:
        run_concurrent_threads(WARMUP, concurrency, call, warm=False)

    lock = threading.Lock()
    state = {"next": 0, "errors": 0}

    def worker():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= n:
                return
            try:
                call(i)
            except Exception as e:  # noqa: BLE001
                with lock:
                    state["errors"] += 1
                note_error(e)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, state["errors"]


def run_sequential(n, call):
    for i in range(WARMUP):
        try:
            call(i)
        except Exception as e:  # noqa: BLE001
            note_error(e)
    errors, lat = 0, []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        try:
            call(i)
        except Exception as e:  # noqa: BLE001
            errors += 1
            note_error(e)
        lat.append((time.perf_counter() - t) * 1e3)
    return time.perf_counter() - start, errors, lat


def check_owner(app_id):
    if not app_id:
        raise RuntimeError(f"no thread owner in response: {app_id!r}")
