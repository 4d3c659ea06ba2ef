"""This project's Python AsyncClient (messenger_handover, release build)."""

import time

from common import (
    T0, check_owner, emit, emit_cold, note_error, parse_args, psid,
    run_concurrent_async, run_sequential_async,
)

CLIENT = "py: messenger_handover.AsyncClient"


def make(a):
    from messenger_handover import AsyncClient

    return AsyncClient(access_token=a["token"], page_id=a["page"], base_url=a["url"])


async def main(a):
    w = a["workload"]
    if w == "cold":
        t = time.perf_counter()
        client = make(a)
        errors = 0
        try:
            check_owner((await client.thread_owner(psid(0))).app_id)
        except Exception as e:  # noqa: BLE001
            errors = 1
            note_error(e)
        emit_cold(CLIENT, a, (time.perf_counter() - t) * 1e3, errors)
        return
    client = make(a)

    async def owner(i):
        check_owner((await client.thread_owner(psid(i))).app_id)

    async def pass_(i):
        apps = a["target_apps"]
        await client.pass_thread_control(psid(i), apps[i % len(apps)], metadata="bench")

    if w == "thread_owner_conc":
        s, e = await run_concurrent_async(a["n"], a["concurrency"], owner)
        emit(CLIENT, a, a["n"], s, e)
    elif w == "thread_owner_seq":
        s, e, lat = await run_sequential_async(a["n"], owner)
        emit(CLIENT, a, a["n"], s, e, lat)
    elif w == "pass_conc":
        s, e = await run_concurrent_async(a["n"], a["concurrency"], pass_)
        emit(CLIENT, a, a["n"], s, e)
    elif w == "paging":
        items = errors = 0
        start = time.perf_counter()
        try:
            async for conv in client.conversations(fields=a["fields"], page_size=a["page_size"]):
                if conv.id:
                    items += 1
        except Exception as e:  # noqa: BLE001
            errors += 1
            note_error(e)
        emit(CLIENT, a, items, time.perf_counter() - start, errors)
    else:
        raise SystemExit(f"unknown workload {w}")


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(parse_args()))
