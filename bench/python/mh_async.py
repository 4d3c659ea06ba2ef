"""This project's Python AsyncClient (messenger_handover, release build)."""

import time

from common import check_owner, parse_args, psid, run_workload_async

CLIENT = "py: messenger_handover.AsyncClient"


def make(a):
    from messenger_handover import AsyncClient

    return AsyncClient(access_token=a["token"], page_id=a["page"], base_url=a["url"])


async def main(a):
    t0 = time.perf_counter()
    client = make(a)

    async def owner(i):
        check_owner((await client.thread_owner(psid(i))).app_id)

    async def pass_(i):
        apps = a["target_apps"]
        await client.pass_thread_control(psid(i), apps[i % len(apps)], metadata="bench")

    async def each_conversation_id(seen):
        async for conv in client.conversations(fields=a["fields"], page_size=a["page_size"]):
            seen(conv.id)

    await run_workload_async(CLIENT, a, t0, owner, pass_, each_conversation_id)


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(parse_args()))
