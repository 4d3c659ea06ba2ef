"""A webhook server for Messenger handover events: verifies each delivery's
X-Hub-Signature-256, answers the subscription handshake, parses every event
of every entry, and reacts.

    python examples/webhook_server.py --demo
        runs the whole round trip against the embedded emulator;
    APP_SECRET=... VERIFY_TOKEN=... PAGE_ACCESS_TOKEN=... python examples/webhook_server.py --port 8080
        serves the real platform (put it behind HTTPS).

The reaction: when the Page Inbox (or any app) asks for the thread, the bot
passes it over; when the thread comes back, the bot says so.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import urlsplit

from messenger_handover import Client, HandoverError
from messenger_handover.webhooks import (
    AnyEvent,
    PassThreadControl,
    RequestThreadControl,
    Standby,
    TakeThreadControl,
    WebhookHandler,
)


class Bot:
    """Reacts to events on a worker thread, so webhook answers go out at once."""

    def __init__(self, client: Client, my_app_id: str, log: Callable[[str], None] = print) -> None:
        self.client = client
        self.my_app_id = my_app_id
        self.log = log
        self.events: "queue.Queue[Optional[AnyEvent]]" = queue.Queue()
        self.seen: list[AnyEvent] = []
        self.worker = threading.Thread(target=self._run, name="bot", daemon=True)
        self.worker.start()

    def _run(self) -> None:
        while True:
            event = self.events.get()
            if event is None:
                return
            self.seen.append(event)
            try:
                self.react(event)
            except HandoverError as e:
                self.log(f"  bot: could not react: {type(e).__name__}: {e}")

    def react(self, event: AnyEvent) -> None:
        who = event.psid
        if isinstance(event, RequestThreadControl) and who:
            self.log(f"  bot: app {event.requested_owner_app_id} asks for thread {who} ({event.metadata!r}); passing it")
            self.client.pass_thread_control(who, event.requested_owner_app_id, metadata="handed over on request")
        elif isinstance(event, PassThreadControl) and event.new_owner_app_id == self.my_app_id:
            self.log(f"  bot: thread {who} is back with me (from {event.previous_owner_app_id})")
        elif isinstance(event, PassThreadControl):
            self.log(f"  bot: thread {who} moved to app {event.new_owner_app_id}")
        elif isinstance(event, TakeThreadControl):
            self.log(f"  bot: thread {who} was taken from app {event.previous_owner_app_id}")
        elif isinstance(event, Standby):
            text = getattr(event.event, "text", None)
            self.log(f"  bot: (standby) user {who} wrote {text!r} while another app owns the thread")
        else:
            self.log(f"  bot: {type(event).__name__} for {who}")

    def stop(self) -> None:
        self.events.put(None)
        self.worker.join(timeout=5)


def make_server(handler: WebhookHandler, bot: Bot, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            result = handler.handle("GET", urlsplit(self.path).query, dict(self.headers.items()))
            self._answer(result.status, result.body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            result = handler.handle("POST", None, dict(self.headers.items()), body)
            self._answer(result.status, result.body)
            for event in result.events:
                bot.events.put(event)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def demo() -> int:
    from messenger_handover.testing import Emulator

    psid = "1234567890"
    with Emulator() as emu, emu.client() as bot_client, emu.client("page_inbox") as inbox:
        handler = WebhookHandler(app_secret=emu.primary.secret, verify_token="demo-verify-token")
        bot = Bot(bot_client, emu.primary.app_id)
        server = make_server(handler, bot)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
        emu.set_webhook("primary", url)
        print(f"Webhook server on {url}; emulator at {emu.url}")

        def owner() -> str:
            return str(emu.state()["threads"].get(psid, {}).get("owner_role"))

        print("1. The Page Inbox requests the thread (the bot owns it):")
        inbox.request_thread_control(psid, metadata="agent available")
        ok = wait_for(lambda: owner() == "page_inbox")
        print(f"   owner now: {owner()}" + ("" if ok else " (the bot did not react in time)"))

        print("2. The user writes while the Page Inbox owns the thread:")
        emu.simulate_message(psid, "is anyone there?")
        wait_for(lambda: any(isinstance(e, Standby) for e in bot.seen))

        print("3. The agent is done: the Page Inbox releases the thread:")
        inbox.release_thread_control(psid)
        wait_for(lambda: any(isinstance(e, PassThreadControl) and e.new_owner_app_id == emu.primary.app_id for e in bot.seen))
        print(f"   owner now: {owner()}")

        server.shutdown()
        bot.stop()
        print(f"Done: {len(bot.seen)} signed events verified and parsed.")
        return 0 if ok else 1


def serve(port: int) -> int:
    secret, verify, token = (os.environ.get(k) for k in ("APP_SECRET", "VERIFY_TOKEN", "PAGE_ACCESS_TOKEN"))
    if not (secret and verify and token):
        print("Set APP_SECRET, VERIFY_TOKEN and PAGE_ACCESS_TOKEN (or run with --demo).", file=sys.stderr)
        return 2
    client = Client(token, page_id=os.environ.get("PAGE_ID", "me"), app_secret=secret)
    bot = Bot(client, os.environ.get("APP_ID", ""))
    server = make_server(WebhookHandler(app_secret=secret, verify_token=verify), bot, port)
    print(f"Listening on http://127.0.0.1:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        bot.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="run one round trip against the embedded emulator")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    sys.exit(demo() if args.demo else serve(args.port))
