"""This project's Python AsyncClient (messenger_handover, release build)."""

import time

from common import check_owner, export_options, parse_args, psid, run_workload_async

CLIENT = "py: messenger_handover.AsyncClient"


def make(a):
    from messenger_handover import AsyncClient

    # The batch workload runs at the per-PSID row's concurrency: connections capped
    # at the 64 that row keeps in flight (else the 100 batch requests all go at once).
    extra = {"max_connections": a["concurrency"]} if a["workload"] == "batch" else {}
    return AsyncClient(access_token=a["token"], page_id=a["page"], base_url=a["url"], **extra)


async def main(a):
    t0 = time.perf_counter()
    if a["workload"] == "thread_owner_conc_logging":
        # Issue 18: an application that configured logging, DEBUG off. The
        # package's logger is then live (WARNING per retry or wait) but each
        # attempt's DEBUG record must cost nothing.
        import logging

        logging.basicConfig(level=logging.WARNING)
    client = make(a)

    async def owner(i):
        check_owner((await client.thread_owner(psid(i))).app_id)

    async def pass_(i):
        apps = a["target_apps"]
        await client.pass_thread_control(psid(i), apps[i % len(apps)], metadata="bench")

    async def each_conversation_id(seen):
        if a["workload"] == "export":
            export = client.export_conversations(**export_options(a))
            async for conv in export:
                seen(conv.id)
            return
        async for conv in client.conversations(fields=a["fields"], page_size=a["page_size"]):
            seen(conv.id)

    async def owners(psids):
        return await client.thread_owners(psids)

    await run_workload_async(CLIENT, a, t0, owner, pass_, each_conversation_id, owners)


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(parse_args()))
