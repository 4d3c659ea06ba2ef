"""facebook-business (Meta's official Python SDK): Page.get_thread_owner,
Page.create_pass_thread_control, Page.get_conversations (its Cursor).
It is blocking (requests), so the concurrent workloads use 64 threads; its
requests pool is widened to 64 connections so it is not starved by the default 10."""

import time

from common import (
    check_owner, emit, emit_cold, note_error, parse_args, psid,
    run_concurrent_threads, run_sequential,
)

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
    w = a["workload"]
    t = time.perf_counter()
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

    if w == "cold":
        errors = 0
        try:
            owner(0)
        except Exception as e:  # noqa: BLE001
            errors = 1
            note_error(e)
        emit_cold(CLIENT, a, (time.perf_counter() - t) * 1e3, errors)
    elif w == "thread_owner_conc":
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
            for conv in page.get_conversations(fields=a["fields"], params={"limit": a["page_size"]}):
                if conv["id"]:
                    items += 1
        except Exception as e:  # noqa: BLE001
            errors += 1
            note_error(e)
        emit(CLIENT, a, items, time.perf_counter() - start, errors)
    else:
        raise SystemExit(f"unknown workload {w}")


if __name__ == "__main__":
    main(parse_args())
