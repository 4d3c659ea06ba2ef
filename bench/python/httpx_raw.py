"""httpx, hand-written calls: AsyncClient for the concurrent workloads and paging,
the blocking httpx.Client for the sequential and cold-start ones."""

import time

from common import (
    check_owner, emit, emit_cold, note_error, parse_args, psid,
    run_concurrent_async, run_sequential,
)

CLIENT = "py: httpx (raw)"


def owner_of(body):
    return body["data"][0]["thread_owner"]["app_id"]


def sync_main(a):
    t = time.perf_counter()
    import httpx

    base = f"{a['url']}/v26.0/{a['page']}"
    with httpx.Client(headers={"Authorization": f"Bearer {a['token']}"}) as client:

        def owner(i):
            r = client.get(f"{base}/thread_owner", params={"recipient": psid(i)})
            r.raise_for_status()
            check_owner(owner_of(r.json()))

        if a["workload"] == "cold":
            errors = 0
            try:
                owner(0)
            except Exception as e:  # noqa: BLE001
                errors = 1
                note_error(e)
            emit_cold(CLIENT, a, (time.perf_counter() - t) * 1e3, errors)
        else:
            s, e, lat = run_sequential(a["n"], owner)
            emit(CLIENT, a, a["n"], s, e, lat)


async def async_main(a):
    import httpx

    base = f"{a['url']}/v26.0/{a['page']}"
    limits = httpx.Limits(max_connections=a["concurrency"], max_keepalive_connections=a["concurrency"])
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {a['token']}"}, limits=limits) as client:

        async def owner(i):
            r = await client.get(f"{base}/thread_owner", params={"recipient": psid(i)})
            r.raise_for_status()
            check_owner(owner_of(r.json()))

        async def pass_(i):
            apps = a["target_apps"]
            payload = {"recipient": {"id": psid(i)}, "target_app_id": apps[i % len(apps)], "metadata": "bench"}
            r = await client.post(f"{base}/pass_thread_control", json=payload)
            r.raise_for_status()
            if r.json().get("success") is not True:
                raise RuntimeError(r.text)

        w = a["workload"]
        if w == "thread_owner_conc":
            s, e = await run_concurrent_async(a["n"], a["concurrency"], owner)
            emit(CLIENT, a, a["n"], s, e)
        elif w == "pass_conc":
            s, e = await run_concurrent_async(a["n"], a["concurrency"], pass_)
            emit(CLIENT, a, a["n"], s, e)
        elif w == "paging":
            items = errors = 0
            params = {"fields": ",".join(a["fields"]), "limit": str(a["page_size"])}
            start = time.perf_counter()
            try:
                while True:
                    r = await client.get(f"{base}/conversations", params=params)
                    r.raise_for_status()
                    body = r.json()
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
    args = parse_args()
    if args["workload"] in ("cold", "thread_owner_seq"):
        sync_main(args)
    else:
        import asyncio

        asyncio.run(async_main(args))
