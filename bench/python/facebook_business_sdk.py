"""facebook-business (Meta's official Python SDK): Page.get_thread_owner,
Page.create_pass_thread_control, Page.get_conversations (its Cursor).
It is blocking (requests), so the concurrent workloads use 64 threads; its
requests pool is widened to 64 connections so it is not starved by the default 10."""

import time

from common import check_owner, parse_args, psid, run_workload

CLIENT = "py: facebook-business"


def make(a):
    import requests.adapters
    from facebook_business.adobjects.page import Page
    from facebook_business.api import FacebookAdsApi

    api = FacebookAdsApi.init(access_token=a["token"], api_version="v26.0", crash_log=False)
    api._session.GRAPH = a["url"]  # the SDK's only base-URL knob
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(64, a["concurrency"]))
    api._session.requests.mount("http://", adapter)
    return Page(a["page"], api=api)


def main(a):
    t0 = time.perf_counter()
    page = make(a)

    def owner(i):
        cursor = page.get_thread_owner(params={"recipient": psid(i)})
        check_owner(cursor[0]["thread_owner"]["app_id"])

    def pass_(i):
        apps = a["target_apps"]
        # The SDK raises FacebookRequestError on a Graph error; its parser drops
        # the {"success": true} body, so reaching here is the success signal.
        page.create_pass_thread_control(
            params={"recipient": {"id": psid(i)}, "target_app_id": apps[i % len(apps)], "metadata": "bench"}
        )

    def each_conversation_id(seen):
        for conv in page.get_conversations(fields=a["fields"], params={"limit": a["page_size"]}):
            seen(conv["id"])

    run_workload(CLIENT, a, t0, owner, pass_, each_conversation_id)


if __name__ == "__main__":
    main(parse_args())
