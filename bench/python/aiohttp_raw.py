"""aiohttp, hand-written calls: one ClientSession, Bearer header, json() per response."""

import time

from common import (
    check_owner, emit, emit_cold, note_error, parse_args, psid,
    run_concurrent_async, run_sequential_async,
)

CLIENT = "py: aiohttp (raw)"


async def main(a):
    t = time.perf_counter()
    import aiohttp

    base = f"{a['url']}/v26.0/{a['page']}"
    headers = {"Authorization": f"Bearer {a['token']}"}
    connector = aiohttp.TCPConnector(limit=max(64, a["concurrency"]))
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def owner(i):
            async with session.get(f"{base}/thread_owner", params={"recipient": psid(i)}) as r:
                r.raise_for_status()
                body = await r.json()
            check_owner(body["data"][0]["thread_owner"]["app_id"])

        async def pass_(i):
            apps = a["target_apps"]
            payload = {"recipient": {"id": psid(i)}, "target_app_id": apps[i % len(apps)], "metadata": "bench"}
            async with session.post(f"{base}/pass_thread_control", json=payload) as r:
                r.raise_for_status()
                body = await r.json()
            if body.get("success") is not True:
                raise RuntimeError(body)

        w = a["workload"]
        if w == "cold":
            errors = 0
            try:
                await owner(0)
            except Exception as e:  # noqa: BLE001
                errors = 1
                note_error(e)
            emit_cold(CLIENT, a, (time.perf_counter() - t) * 1e3, errors)
        elif w == "thread_owner_conc":
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
            params = {"fields": ",".join(a["fields"]), "limit": str(a["page_size"])}
            start = time.perf_counter()
            try:
                while True:
                    async with session.get(f"{base}/conversations", params=params) as r:
                        r.raise_for_status()
                        body = await r.json()
                    for conv in body["data"]:
                        if conv["id"]:
                            items += 1
                    paging = body.get("paging") or {}
                    if "next" not in paging:
                        break
                    params["after"] = paging["cursors"]["after"]
            except Exception as e:  # noqa: BLE001
                errors += 1
                note_error(e)
            emit(CLIENT, a, items, time.perf_counter() - start, errors)
        else:
            raise SystemExit(f"unknown workload {w}")


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(parse_args()))
