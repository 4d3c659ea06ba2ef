"""The emulator's admin calls through messenger_handover.testing, one small test each."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest

from messenger_handover.testing import Emulator

V = "v26.0"


def graph(emu: Emulator, path: str, *, app: str = "primary", form: dict | None = None) -> tuple[int, object]:
    """A raw Graph call (token in the query, form body), as the peers' SDKs send it."""
    from urllib.parse import urlencode

    url = f"{emu.url}/{path}{'&' if '?' in path else '?'}access_token={emu.app(app).token}"
    data = urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_instagram_inbox_app_is_exposed():
    with Emulator() as emu:
        assert emu.instagram_inbox.app_id == "1217981644879628"
        assert "instagram_inbox" in repr(emu.app("instagram_inbox"))
        assert emu.instagram_inbox.token not in repr(emu.instagram_inbox)


def test_advance_clock_expires_routing_control():
    with Emulator(mode="routing", conversations=10) as emu:
        start = emu.now()
        emu.simulate_message("4242", "hello")
        assert emu.state()["threads"]["4242"]["owner_role"] == "primary"
        later = emu.advance_clock(24 * 3600 + 1)
        assert later - start >= timedelta(hours=24)
        assert emu.now().tzinfo is not None
        assert emu.state()["threads"]["4242"]["owner"] is None
        with pytest.raises(ValueError):
            emu.advance_clock(-1)


def test_default_app_none_makes_take_answer_27():
    with Emulator(mode="routing", conversations=10, default_app=None) as emu:
        status, body = graph(emu, f"{V}/me/take_thread_control", form={"recipient": '{"id":"77"}'})
        assert status == 400 and body["error"]["code"] == 27
        emu.set_default_app("primary")
        status, _ = graph(emu, f"{V}/me/take_thread_control", form={"recipient": '{"id":"77"}'})
        assert status == 200
        with pytest.raises(ValueError):
            emu.set_default_app("nobody")


def test_set_feature_status():
    with Emulator(conversations=10) as emu:
        emu.set_feature_status(hop_v2=True, msgr_multi_app=False, ig_multi_app=False)
        _, body = graph(emu, f"{V}/me?fields=messaging_feature_status")
        assert body["messaging_feature_status"] == {"hop_v2": True, "msgr_multi_app": False, "ig_multi_app": False}


def test_bump_conversation_moves_it_to_the_top():
    with Emulator(conversations=30) as emu:
        convs = emu.conversations()
        last = convs[-1]["id"]
        summary = emu.bump_conversation(last, "any news?")
        assert summary["id"] == last
        assert emu.conversations()[0]["id"] == last
        with pytest.raises(ValueError):
            emu.bump_conversation("t_0")


def test_conversations_pacing():
    with Emulator(conversations=10) as emu:
        emu.set_conversations_pacing(1)
        codes = [graph(emu, f"{V}/me/conversations?limit=1")[0] for _ in range(2)]
        assert codes == [200, 400]
        assert emu.request_log()[-1]["error_code"] == 613


def test_log_capacity():
    with Emulator(conversations=10, log_capacity=3) as emu:
        for i in range(5):
            graph(emu, f"{V}/me/thread_owner?recipient={i}")
        assert [e["seq"] for e in emu.request_log()] == [3, 4, 5]
        emu.set_log_capacity(1)
        assert len(emu.request_log()) == 1
        assert emu.state()["requests_dropped"] == 4


def test_null_item_fault_in_a_batch():
    with Emulator(conversations=10) as emu:
        emu.inject_fault({"match": {"batch_index": 0}, "action": {"type": "null_item"}})
        ops = [{"method": "GET", "relative_url": "me/thread_owner?recipient=5"}] * 2
        status, body = graph(emu, "", form={"batch": json.dumps(ops)})
        assert status == 200
        assert body[0] is None and body[1]["code"] == 200


def test_too_many_conversations_is_a_value_error_not_an_abort():
    # Generated up front: 10**10 of them was an allocation failure, which aborts the interpreter.
    with pytest.raises(ValueError, match="conversations: at most 5000000"):
        Emulator(conversations=10**10)


def test_a_status_http_cannot_carry_is_refused_not_served_as_a_500():
    from messenger_handover.testing import ScriptedServer

    with Emulator(conversations=1) as emu:
        for action in ({"type": "status", "status": 1000}, {"type": "graph_error", "status": 42, "error": {"code": 1}},
                       {"type": "malformed", "status": 0}, {"type": "reset_mid_body", "status": 99}):
            with pytest.raises(ValueError, match="100-999"):
                emu.inject_fault({"action": action})
    with ScriptedServer() as server:
        with pytest.raises(ValueError, match="100-999"):
            server.push_response(status=1000)
        server.push_response(status=0)  # 0: 200


def test_a_refused_app_or_mode_is_named_only_when_it_looks_like_a_name():
    token = "EAAGsecretTokenPassedInTheWrongPlace0123456789"
    with Emulator(conversations=1) as emu:
        with pytest.raises(ValueError) as info:
            emu.app(token)
        assert token not in str(info.value) and "not shown" in str(info.value)
        with pytest.raises(ValueError, match="'tertiary'"):
            emu.app("tertiary")
    with pytest.raises(ValueError) as info:
        Emulator(mode=token)
    assert token not in str(info.value)
