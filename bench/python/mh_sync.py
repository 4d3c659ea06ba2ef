"""This project's blocking Python Client (messenger_handover.Client, release build).
Concurrent workloads run it on 64 threads (it releases the GIL while waiting)."""

import time

from common import check_owner, export_options, parse_args, psid, run_workload

CLIENT = "py: messenger_handover.Client"


def make(a):
    from messenger_handover import Client

    return Client(access_token=a["token"], page_id=a["page"], base_url=a["url"])


def main(a):
    t0 = time.perf_counter()
    client = None

    def owner(i):
        check_owner(client.thread_owner(psid(i)).app_id)

    def pass_(i):
        apps = a["target_apps"]
        client.pass_thread_control(psid(i), apps[i % len(apps)], metadata="bench")

    def each_conversation_id(seen):
        if a["workload"] == "export":
            for conv in client.export_conversations(**export_options(a)):
                seen(conv.id)
            return
        for conv in client.conversations(fields=a["fields"], page_size=a["page_size"]):
            seen(conv.id)

    def make_then_owner(i):
        nonlocal client
        client = make(a)
        owner(i)

    # Here the cold call makes the client inside its try, so failing to make it is its error.
    if a["workload"] == "cold":
        run_workload(CLIENT, a, t0, make_then_owner, pass_, each_conversation_id)
    else:
        client = make(a)
        run_workload(CLIENT, a, t0, owner, pass_, each_conversation_id)


if __name__ == "__main__":
    main(parse_args())
