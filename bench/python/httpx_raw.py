"""httpx, hand-written calls: AsyncClient for the concurrent workloads and paging,
the blocking httpx.Client for the sequential and cold-start ones."""

import time

from common import (
    check_owner, parse_args, psid, raw_each_conversation_id, run_workload, run_workload_async,
)

CLIENT = "py: httpx (raw)"


def owner_of(body):
    return body["data"][0]["thread_owner"]["app_id"]


def sync_main(a):
    t0 = time.perf_counter()
    import httpx

    base = f"{a['url']}/v26.0/{a['page']}"
    with httpx.Client(headers={"Authorization": f"Bearer {a['token']}"}) as client:

        def owner(i):
            r = client.get(f"{base}/thread_owner", params={"recipient": psid(i)})
            r.raise_for_status()
            check_owner(owner_of(r.json()))

        # Only cold and thread_owner_seq come here: no pass_ or paging.
        run_workload(CLIENT, a, t0, owner, None, None)


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

        async def conversations_page(params):
            r = await client.get(f"{base}/conversations", params=params)
            r.raise_for_status()
            return r.json()

        each_conversation_id = raw_each_conversation_id(a, conversations_page)
        # The cold start is sync_main's, so there is no t0 here.
        await run_workload_async(CLIENT, a, None, owner, pass_, each_conversation_id)


if __name__ == "__main__":
    args = parse_args()
    if args["workload"] in ("cold", "thread_owner_seq"):
        sync_main(args)
    else:
        import asyncio

        asyncio.run(async_main(args))
