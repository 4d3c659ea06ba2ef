"""This project's blocking Python Client (messenger_handover.Client, release build).
Concurrent workloads run it on 64 threads (it releases the GIL while waiting)."""

import time

from common import (
    check_owner, emit, emit_cold, note_error, parse_args, psid,
    run_concurrent_threads, run_sequential,
)

CLIENT = "py: messenger_handover.Client"


def make(a):
    from messenger_handover import Client

    return Client(access_token=a["token"], page_id=a["page"], base_url=a["url"])


def main(a):
    w = a["workload"]
    if w == "cold":
        t = time.perf_counter()
        errors = 0
        try:
            client = make(a)
            check_owner(client.thread_owner(psid(0)).app_id)
        except Exception as e:  # noqa: BLE001
            errors = 1
            note_error(e)
        emit_cold(CLIENT, a, (time.perf_counter() - t) * 1e3, errors)
        return
    client = make(a)

    def owner(i):
        check_owner(client.thread_owner(psid(i)).app_id)

    def pass_(i):
        apps = a["target_apps"]
        client.pass_thread_control(psid(i), apps[i % len(apps)], metadata="bench")

    if w == "thread_owner_conc":
        s, e = run_concurrent_threads(a["n"], a["concurrency"], owner)
        emit(CLIENT, a, a["n"], s, e)
    elif w == "thread_owner_seq":
        s, e, lat = run_sequential(a["n"], owner)
        emit(CLIENT, a, a["n"], s, e, lat)
    elif w == "pass_conc":
        s, e = run_concurrent_threads(a["n"], a["concurrency"], pass_)
        emit(CLIENT, a, a["n"], s, e)
    elif w == "paging":
        items = errors = 0
        start = time.perf_counter()
        try:
            for conv in client.conversations(fields=a["fields"], page_size=a["page_size"]):
                if conv.id:
                    items += 1
        except Exception as e:  # noqa: BLE001
            errors += 1
            note_error(e)
        emit(CLIENT, a, items, time.perf_counter() - start, errors)
    else:
        raise SystemExit(f"unknown workload {w}")


if __name__ == "__main__":
    main(parse_args())
