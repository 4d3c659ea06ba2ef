"""aiohttp, hand-written calls: one ClientSession, Bearer header, json() per response."""

import time

from common import check_owner, parse_args, psid, raw_each_conversation_id, run_workload_async

CLIENT = "py: aiohttp (raw)"


async def main(a):
    t0 = time.perf_counter()
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

        async def conversations_page(params):
            async with session.get(f"{base}/conversations", params=params) as r:
                r.raise_for_status()
                return await r.json()

        each_conversation_id = raw_each_conversation_id(a, conversations_page)
        await run_workload_async(CLIENT, a, t0, owner, pass_, each_conversation_id)


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(parse_args()))
