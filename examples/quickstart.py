"""messenger_handover quickstart: move one Messenger thread between apps and
list the inbox.

Runs against the embedded Graph API emulator by default. To use the real
Graph API, set PAGE_ACCESS_TOKEN (and PSID, a user who wrote to your Page;
optionally PAGE_ID and APP_SECRET).

    python examples/quickstart.py
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack

from messenger_handover import (
    PAGE_INBOX_APP_ID,
    Client,
    Folder,
    HandoverError,
    ThreadControlError,
    ThreadOwner,
)


def describe(owner: ThreadOwner | None, names: dict[str, str]) -> str:
    if owner is None:
        return "nobody (the thread is idle)"
    who = names.get(owner.app_id, "app " + owner.app_id)
    until = f", until {owner.expiration:%Y-%m-%d %H:%M} UTC" if owner.expiration else ""
    return f"{who} ({owner.app_id}){until}"


def main() -> int:
    with ExitStack() as stack:
        token = os.environ.get("PAGE_ACCESS_TOKEN")
        if token:
            psid = os.environ.get("PSID", "")
            if not psid:
                print("Set PSID to the page-scoped id of a user who wrote to your Page.", file=sys.stderr)
                return 2
            client = stack.enter_context(
                Client(token, page_id=os.environ.get("PAGE_ID", "me"), app_secret=os.environ.get("APP_SECRET"))
            )
            print(f"Using the Graph API at {client.base_url} ({client.api_version})")
        else:
            from messenger_handover.testing import Emulator

            emu = stack.enter_context(Emulator(conversations=40))
            client = stack.enter_context(emu.client("primary"))
            psid = "1234567890"
            print(f"Using the embedded Graph API emulator at {emu.url} (set PAGE_ACCESS_TOKEN for the real one)")
        print(f"  client: {client!r}\n")

        names = {PAGE_INBOX_APP_ID: "Page Inbox"}
        print("Apps with a role on the Page:")
        for app in client.secondary_receivers():
            names[app.id] = app.name or app.id
            print(f"  - {app.name} ({app.id})")

        owner = client.thread_owner(psid)
        if owner is not None:
            names.setdefault(owner.app_id, "this app")
        print(f"\n1. Thread {psid} is owned by {describe(owner, names)}")

        client.pass_thread_control_to_page_inbox(psid, metadata="customer asked for a human")
        print(f"2. Passed to the Page Inbox -> now {describe(client.thread_owner(psid), names)}")

        client.request_thread_control(psid, metadata="the bot would like it back")
        print("3. Requested control back from the Page Inbox (the inbox decides)")

        client.take_thread_control(psid, metadata="agent went offline")
        print(f"4. Took it back -> now {describe(client.thread_owner(psid), names)}")

        client.release_thread_control(psid)
        after_release = client.thread_owner(psid)
        note = " (a primary receiver keeps a released thread)" if after_release == owner else ""
        print(f"5. Released it -> now {describe(after_release, names)}{note}")

        print("\n6. First page of inbox conversations:")
        pager = client.conversations(
            folder=Folder.INBOX,
            page_size=5,
            fields=["id", "updated_time", "snippet", "message_count", "unread_count", "participants"],
        )
        page = pager.next_page()
        rows = [("id", "updated (UTC)", "msgs", "unread", "snippet")]
        for conv in page.items if page else []:
            updated = f"{conv.updated_time:%Y-%m-%d %H:%M}" if conv.updated_time else "-"
            snippet = (conv.snippet or "")[:32]
            rows.append((conv.id, updated, str(conv.message_count or 0), str(conv.unread_count or 0), snippet))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print(("   " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths))).rstrip())
        more = "more pages follow" if page and page.has_next else "that was all"
        print(f"   ({more}; resume with after={pager.after!r})")

        print("\n7. A Graph error, caught and explained:")
        client.pass_thread_control_to_page_inbox(psid)
        try:
            # The Page Inbox owns the thread now: this app cannot pass it again.
            client.pass_thread_control_to_page_inbox(psid)
        except ThreadControlError as e:
            print(f"   {type(e).__name__} (kind={e.kind!r}, code={e.code}, subcode={e.subcode}, HTTP {e.http_status})")
            print(f"   Graph says: {e.message}")
            print("   Meaning: only the thread's owner can pass it; take it back first.")
        except HandoverError as e:
            print(f"   {type(e).__name__}: {e}")
        finally:
            client.take_thread_control(psid)
        print(f"\nDone: thread {psid} is back with {describe(client.thread_owner(psid), names)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
