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
    a["fields"] = split_fields(a["fields"])
    a["target_apps"] = a["target_apps"].split(",")
    global WARMUP
    WARMUP = a["warmup"]
    return a


def split_fields(text):
    """`a,b,messages.limit(3){x,y}` -> ['a', 'b', 'messages.limit(3){x,y}']: commas
    inside braces belong to a field expansion."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "{(" or -(ch in "})")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [f for f in out + [cur] if f]


def export_options(a):
    """This project's export as the bench walks it: one folder (bench-server has
    one list), 3 messages each, pacing off, no progress bar. Its fields are the
    core's defaults, which run.py's EXPORT_FIELDS spells out for the peers."""
    return {"folders": ["inbox"], "messages": 3, "max_calls_per_second": None,
            "page_size": a["page_size"], "progress": False}


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


# ---- workloads -----------------------------------------------------------------
# A runner defines how its client makes the calls and hands them here:
# owner(i) and pass_(i) make call i (raising on a failed call);
# each_conversation_id(seen) pages through all conversations, calling seen(id) on each
# in order (a callback, as in common.mjs: per item it costs less than an async generator);
# t0 is taken before the client is imported, so "cold" counts import + client + first call.
# Blocking and async clients get twin functions: one async version would pull asyncio into
# the blocking runners' cold start.


class _Tally:
    """What one run counts, the same for blocking and async clients: items seen
    (paging), calls failed (each noted for the report) and time since it began."""

    def __init__(self):
        self.items = self.errors = 0
        self.start = time.perf_counter()

    def seen(self, conversation_id):
        if conversation_id:
            self.items += 1

    def failed(self, e):
        self.errors += 1
        note_error(e)

    def emit_paging(self, client, a):
        emit(client, a, self.items, time.perf_counter() - self.start, self.errors)


def _check_owners(results, n):
    """thread_owners' answer: one owner per PSID; an exception instance counts as an error."""
    if len(results) != n:
        raise RuntimeError(f"{len(results)} results for {n} PSIDs")
    errors = 0
    for r in results:
        if isinstance(r, BaseException) or r is None or not r.app_id:
            errors += 1
            note_error(r if isinstance(r, BaseException) else RuntimeError(f"no owner: {r!r}"))
    return errors


def run_workload(client, a, t0, owner, pass_, each_conversation_id, owners=None):
    """Runs a["workload"] with a blocking client and prints its JSON line.
    `owners(psids)` (this project's clients) answers the batch workload;
    each_conversation_id also walks the export (peers: the same walk with
    the export's fields)."""
    w, n = a["workload"], a["n"]
    if w == "thread_owner_conc_logging":
        w = "thread_owner_conc"
    if w == "cold":
        tally = _Tally()
        try:
            owner(0)
        except Exception as e:  # noqa: BLE001
            tally.failed(e)
        emit_cold(client, a, (time.perf_counter() - t0) * 1e3, tally.errors)
    elif w == "thread_owner_conc":
        emit(client, a, n, *run_concurrent_threads(n, a["concurrency"], owner))
    elif w == "thread_owner_seq":
        emit(client, a, n, *run_sequential(n, owner))
    elif w == "pass_conc":
        emit(client, a, n, *run_concurrent_threads(n, a["concurrency"], pass_))
    elif w in ("paging", "export"):
        tally = _Tally()
        try:
            each_conversation_id(tally.seen)
        except Exception as e:  # noqa: BLE001 - a failed page ends the run; items so far are reported
            tally.failed(e)
        tally.emit_paging(client, a)
    elif w == "batch" and owners:
        if WARMUP:
            owners([psid(i) for i in range(WARMUP)])
        psids = [psid(i) for i in range(n)]
        start = time.perf_counter()
        results = owners(psids)
        emit(client, a, n, time.perf_counter() - start, _check_owners(results, n))
    else:
        raise SystemExit(f"unknown workload {w}")


async def run_workload_async(client, a, t0, owner, pass_, each_conversation_id, owners=None):
    """run_workload for an async client: owner, pass_, owners and each_conversation_id are awaited."""
    w, n = a["workload"], a["n"]
    if w == "thread_owner_conc_logging":
        w = "thread_owner_conc"
    if w == "cold":
        tally = _Tally()
        try:
            await owner(0)
        except Exception as e:  # noqa: BLE001
            tally.failed(e)
        emit_cold(client, a, (time.perf_counter() - t0) * 1e3, tally.errors)
    elif w == "thread_owner_conc":
        emit(client, a, n, *await run_concurrent_async(n, a["concurrency"], owner))
    elif w == "thread_owner_seq":
        emit(client, a, n, *await run_sequential_async(n, owner))
    elif w == "pass_conc":
        emit(client, a, n, *await run_concurrent_async(n, a["concurrency"], pass_))
    elif w in ("paging", "export"):
        tally = _Tally()
        try:
            await each_conversation_id(tally.seen)
        except Exception as e:  # noqa: BLE001 - a failed page ends the run; items so far are reported
            tally.failed(e)
        tally.emit_paging(client, a)
    elif w == "batch" and owners:
        if WARMUP:
            await owners([psid(i) for i in range(WARMUP)])
        psids = [psid(i) for i in range(n)]
        start = time.perf_counter()
        results = await owners(psids)
        emit(client, a, n, time.perf_counter() - start, _check_owners(results, n))
    else:
        raise SystemExit(f"unknown workload {w}")


def raw_each_conversation_id(a, get_page):
    """each_conversation_id for the raw HTTP runners, which follow Graph's cursors by hand:
    get_page(params) GETs one page of /conversations and returns its JSON body."""
    params = {"fields": ",".join(a["fields"]), "limit": str(a["page_size"])}

    async def each_conversation_id(seen):
        while True:
            body = await get_page(params)
            for conv in body["data"]:
                seen(conv["id"])
            paging = body.get("paging") or {}
            if "next" not in paging:
                return
            params["after"] = paging["cursors"]["after"]

    return each_conversation_id
