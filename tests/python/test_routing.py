"""Conversation Routing and batch requests through both Python clients,
against the emulator over real HTTP: feature_status, the Instagram Inbox, #27
and the thread-control hints, a test per routing rule (expiry on the emulated
clock), batch of 120 mixed operations and thread_owners for 500 PSIDs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Dict, List

import pytest

from messenger_handover import (
    INSTAGRAM_INBOX_APP_ID,
    PAGE_INBOX_APP_ID,
    App,
    BatchOp,
    BlockedError,
    Client,
    FeatureStatus,
    HandoverError,
    InvalidParameterError,
    Platform,
    ThreadControlError,
    ThreadOwner,
    TransportError,
)
from messenger_handover.testing import Emulator, ScriptedServer

PSID = "1357924680"
DAY = 24 * 3600


def routing(default_app: Any = "primary") -> Emulator:
    return Emulator(mode="routing", conversations=5, default_app=default_app)


def log(emu: Emulator) -> List[Dict[str, Any]]:
    return emu.request_log()


def batch_requests(emu: Emulator) -> int:
    """Outer batch requests the emulator saw (its operations are logged apart)."""
    return sum(1 for r in log(emu) if r["method"] == "POST" and r["path"] == "/" and r.get("batch_index") is None)


# ------------------------------------------------------------ feature status


def test_feature_status_reads_the_page_field() -> None:
    with routing() as emu, emu.client(retry_base_delay=0.005) as bot:
        emu.set_feature_status(hop_v2=True, msgr_multi_app=False, ig_multi_app=True)
        status = bot.feature_status()
        assert status == FeatureStatus(hop_v2=True, msgr_multi_app=False, ig_multi_app=True)
        assert (status.hop_v2, status.msgr_multi_app, status.ig_multi_app) == (True, False, True)
        assert status.to_dict() == {"hop_v2": True, "msgr_multi_app": False, "ig_multi_app": True}
        assert repr(status) == "FeatureStatus(hop_v2=True, msgr_multi_app=False, ig_multi_app=True)"
        entry = log(emu)[-1]
        assert (entry["method"], entry["path"]) == ("GET", f"/v26.0/{emu.page_id}")
        assert entry["query"]["fields"] == "messaging_feature_status"
        assert bot.batch([BatchOp.feature_status()]) == [status]


async def test_feature_status_async() -> None:
    with routing() as emu:
        emu.set_feature_status(hop_v2=False, msgr_multi_app=True, ig_multi_app=False)
        async with emu.async_client() as bot:
            assert await bot.feature_status() == FeatureStatus(msgr_multi_app=True)


# ------------------------------------------------------------ the inboxes


def test_pass_to_the_instagram_inbox() -> None:
    assert INSTAGRAM_INBOX_APP_ID == "1217981644879628" and PAGE_INBOX_APP_ID == "263902037430900"
    with routing() as emu, emu.client() as bot:
        bot.take_thread_control(PSID)
        bot.pass_thread_control_to_page_inbox(PSID, metadata="IG human", platform="instagram")
        owner = bot.thread_owner(PSID)
        assert owner is not None and owner.app_id == INSTAGRAM_INBOX_APP_ID
        passes = [r for r in log(emu) if r["path"].endswith("/pass_thread_control")]
        assert passes[-1]["body"]["target_app_id"] == INSTAGRAM_INBOX_APP_ID

        # The enum works too; Messenger (or nothing) is the Page Inbox.
        bot.take_thread_control("24680")
        bot.pass_thread_control_to_page_inbox("24680", platform=Platform.MESSENGER)
        assert bot.thread_owner("24680") == ThreadOwner(PAGE_INBOX_APP_ID, bot.thread_owner("24680").expiration)  # type: ignore[union-attr]
        bot.take_thread_control("35791")
        assert bot.batch([BatchOp.pass_thread_control_to_page_inbox("35791", platform=Platform.INSTAGRAM)]) == [None]
        owner = bot.thread_owner("35791")
        assert owner is not None and owner.app_id == INSTAGRAM_INBOX_APP_ID

        # A platform that does not exist is refused before anything is sent.
        before = len(log(emu))
        with pytest.raises(ValueError, match="platform"):
            bot.pass_thread_control_to_page_inbox(PSID, platform="whatsapp")
        with pytest.raises(TypeError, match="platform"):
            bot.pass_thread_control_to_page_inbox(PSID, platform=3)  # type: ignore[arg-type]
        assert len(log(emu)) == before


async def test_pass_to_the_instagram_inbox_async() -> None:
    with routing() as emu:
        async with emu.async_client() as bot:
            await bot.take_thread_control(PSID)
            await bot.pass_thread_control_to_page_inbox(PSID, platform=Platform.INSTAGRAM)
            owner = await bot.thread_owner(PSID)
            assert owner is not None and owner.app_id == INSTAGRAM_INBOX_APP_ID


# ------------------------------------------------------------ #27 and the hints


def test_take_without_a_default_app_is_27_with_its_hint() -> None:
    with routing(default_app=None) as emu, emu.client() as bot:
        with pytest.raises(ThreadControlError) as info:
            bot.take_thread_control(PSID)
        err = info.value
        assert err.code == 27 and err.kind == "thread_control"
        assert err.hint is not None and "default app" in err.hint
        assert err.hint in str(err), "the hint is in the message too"


def test_thread_control_errors_carry_hints() -> None:
    with routing() as emu, emu.client() as bot, emu.client("secondary") as other:
        bot.take_thread_control(PSID)
        with pytest.raises(ThreadControlError) as info:
            other.pass_thread_control_to_page_inbox(PSID)
        hint = info.value.hint
        assert hint is not None and "thread_owner" in hint and "request_thread_control" in hint
        assert str(info.value).endswith(hint)
        with pytest.raises(ThreadControlError) as info:
            other.take_thread_control(PSID)
        assert info.value.hint
        # Not a thread-control error: no hint attribute at all.
        with Client("EAAG-not-a-token", base_url=emu.url, page_id=emu.page_id) as stranger:
            with pytest.raises(HandoverError) as other_err:
                stranger.thread_owner(PSID)
        assert not isinstance(other_err.value, ThreadControlError)
        assert getattr(other_err.value, "hint", None) is None


# ------------------------------------------------------------ the routing rules


def test_without_a_default_app_every_app_may_answer_an_idle_thread() -> None:
    with routing(default_app=None) as emu, emu.client() as bot, emu.client("secondary") as other:
        assert bot.thread_owner(PSID) is None, "threads start idle"
        other.pass_thread_control(PSID, emu.primary.app_id)
        owner = bot.thread_owner(PSID)
        assert owner is not None and owner.app_id == emu.primary.app_id


def test_request_on_an_idle_thread_passes_it() -> None:
    with routing(default_app=None) as emu, emu.client("secondary") as other:
        other.request_thread_control("97531", metadata="mine")
        owner = other.thread_owner("97531")
        assert owner is not None and owner.app_id == emu.secondary.app_id


def test_with_a_default_app_only_it_answers_an_idle_thread() -> None:
    with routing() as emu, emu.client() as bot, emu.client("secondary") as other:
        with pytest.raises(ThreadControlError):
            other.pass_thread_control(PSID, emu.primary.app_id)
        bot.pass_thread_control(PSID, emu.secondary.app_id)
        owner = other.thread_owner(PSID)
        assert owner is not None and owner.app_id == emu.secondary.app_id
        # Changing the default app changes who may answer.
        emu.set_default_app("secondary")
        with pytest.raises(ThreadControlError):
            bot.pass_thread_control("86420", emu.secondary.app_id)
        other.pass_thread_control("86420", emu.primary.app_id)


def test_control_expires_after_a_day() -> None:
    with routing() as emu, emu.client() as bot:
        bot.take_thread_control(PSID)
        owner = bot.thread_owner(PSID)
        assert owner is not None and owner.expiration is not None
        left = owner.expiration - emu.now()
        assert timedelta(hours=23) < left <= timedelta(hours=24), left
        emu.advance_clock(DAY - 60)
        assert bot.thread_owner(PSID) is not None, "still held a minute before expiry"
        emu.advance_clock(120)
        assert bot.thread_owner(PSID) is None, "idle once the day is over"
        with pytest.raises(ThreadControlError):
            bot.extend_thread_control(PSID, 3600)


async def test_extend_lengthens_control_and_release_idles() -> None:
    with routing() as emu:
        async with emu.async_client() as bot:
            await bot.take_thread_control(PSID)
            assert await bot.batch([BatchOp.extend_thread_control(PSID, 3600)]) == [None]
            await bot.extend_thread_control(PSID, timedelta(days=7))
            emu.advance_clock(6 * DAY)
            assert await bot.thread_owner(PSID) is not None, "extended to 7 days"
            emu.advance_clock(DAY + 60)
            assert await bot.thread_owner(PSID) is None
            await bot.take_thread_control(PSID)
            await bot.release_thread_control(PSID)
            assert await bot.thread_owner(PSID) is None, "release idles the thread at once"


def test_only_the_owner_and_the_default_app_see_who_owns() -> None:
    with routing() as emu, emu.client() as bot, emu.client("secondary") as other, emu.client("page_inbox") as inbox:
        bot.take_thread_control(PSID)
        bot.pass_thread_control(PSID, emu.secondary.app_id)
        for c in (other, bot):
            o = c.thread_owner(PSID)
            assert o is not None and o.app_id == emu.secondary.app_id and o.expiration is not None
        hidden = inbox.thread_owner(PSID)
        assert hidden is not None and hidden.app_id == "" and hidden.expiration is not None
        owners = inbox.thread_owners([PSID, "11223344"])
        assert isinstance(owners[0], ThreadOwner) and owners[0].app_id == ""
        assert owners[1] is None, "an idle thread has no owner"


def test_conversation_is_owner_is_typed() -> None:
    # The emulator does not render is_owner; the scripted server answers as
    # the Graph API does, over HTTP all the same.
    with ScriptedServer() as server:
        body = {"data": [{"id": "t_1", "is_owner": True}, {"id": "t_2", "is_owner": False}, {"id": "t_3"}]}
        server.push_response(200, {"content-type": "application/json"}, json.dumps(body))
        with Client("conformance-token", base_url=server.url, max_retries=0) as client:
            page = client.conversations(fields=["id", "is_owner"]).next_page()
        assert page is not None
        assert [c.is_owner for c in page.items] == [True, False, None]
        assert page.items[0].to_dict()["is_owner"] is True


# ------------------------------------------------------------ batch


def _psid(i: int) -> str:
    return str(4_000_000_000 + i)


def _mixed(i: int) -> Any:
    """A pattern of five (50 is a multiple of five, so an operation's slot in
    its request says its kind); plain dicts work beside BatchOp."""
    return [
        BatchOp.pass_thread_control_to_page_inbox(_psid(i), metadata="human please"),
        BatchOp.thread_owner(_psid(i)),
        BatchOp.pass_thread_control(_psid(i), "999999999"),
        {"op": "thread_owner", "psid": f"0{i}"},  # a leading 0: no user, to the emulator
        BatchOp.secondary_receivers(),
    ][i % 5]


def _inject_faults(emu: Emulator) -> None:
    # Slot 5 of some request: a pass that runs, then answers null (never resent).
    emu.inject_fault({"match": {"batch_index": 5}, "action": {"type": "null_item", "applied": True}})
    # Slot 10 of some request: a pass refused as blocked (368).
    emu.inject_fault(
        {
            "match": {"batch_index": 10},
            "action": {"type": "graph_error", "error": {"code": 368, "message": "(#368) Temporarily blocked for policies violations"}},
        }
    )


def _check_mixed(emu: Emulator, results: List[Any]) -> None:
    assert len(results) == 120
    assert batch_requests(emu) == 3, "120 operations take 3 requests of at most 50"
    nulls, blocked = [], []
    for i, r in enumerate(results):
        slot = i % 5
        if slot == 0:
            if isinstance(r, TransportError):
                nulls.append(i)
            elif isinstance(r, BlockedError):
                blocked.append(i)
            else:
                assert r is None, f"{i}: {r!r}"
        elif slot == 1:
            assert isinstance(r, ThreadOwner) and r.app_id == emu.primary.app_id, f"{i}: {r!r}"
        elif slot == 2:
            assert isinstance(r, ThreadControlError), f"{i}: {r!r}"
            assert r.hint, f"{i}: a thread-control error carries a hint"
        elif slot == 3:
            assert isinstance(r, InvalidParameterError), f"{i}: {r!r}"
        else:
            assert isinstance(r, list) and all(isinstance(a, App) for a in r), f"{i}: {r!r}"
            assert any(a.id == PAGE_INBOX_APP_ID for a in r)
    assert len(nulls) == 1 and nulls[0] % 50 == 5, nulls
    assert len(blocked) == 1 and blocked[0] % 50 == 10, blocked
    assert "not sent again" in str(results[nulls[0]])
    # The null pass ran and was never resent.
    null_psid = _psid(nulls[0])
    sent = [r for r in log(emu) if r.get("batch_index") is not None and r["path"].endswith("/pass_thread_control")]
    assert sum(1 for r in sent if r["body"]["recipient"]["id"] == null_psid) == 1
    assert emu.state()["threads"][null_psid]["owner"] == PAGE_INBOX_APP_ID
    assert all(r["token_in_query"] is False for r in log(emu))


def test_batch_of_120_mixed_operations() -> None:
    with Emulator(conversations=5) as emu, emu.client(retry_base_delay=0.005) as bot:
        _inject_faults(emu)
        _check_mixed(emu, bot.batch([_mixed(i) for i in range(120)]))


async def test_batch_of_120_mixed_operations_async() -> None:
    with Emulator(conversations=5) as emu:
        _inject_faults(emu)
        async with emu.async_client(retry_base_delay=0.005) as bot:
            results = await bot.batch(_mixed(i) for i in range(120))
        _check_mixed(emu, results)


def test_batch_refuses_bad_operations_before_sending() -> None:
    with Emulator(conversations=5) as emu, emu.client() as bot:
        with pytest.raises(ValueError, match="batch operation 1") as info:
            bot.batch([BatchOp.thread_owner("1"), BatchOp.pass_thread_control("2", "12a")])
        assert getattr(info.value, "argument", None) == "target_app_id"
        with pytest.raises(ValueError, match="batch operation 0"):
            bot.batch([{"op": "EAAG-looks-like-a-token", "psid": "1"}])
        with pytest.raises(ValueError) as info:
            bot.batch([{"op": "EAAG-looks-like-a-token", "psid": "1"}])
        assert "EAAG" not in str(info.value)
        with pytest.raises(TypeError, match="operations"):
            bot.batch([42])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="psid"):
            BatchOp.thread_owner(42)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="duration"):
            bot.batch([BatchOp.extend_thread_control("1", timedelta(days=8))])
        assert bot.batch([]) == []
        assert log(emu) == [], "nothing was sent"
    op = BatchOp.pass_thread_control_to_page_inbox("1", platform="instagram")
    assert op == BatchOp.pass_thread_control_to_page_inbox("1", platform=Platform.INSTAGRAM)
    assert op.to_dict() == {"op": "pass_thread_control_to_page_inbox", "psid": "1", "metadata": None, "platform": "instagram"}
    assert repr(op) == "BatchOp.pass_thread_control_to_page_inbox(psid='1', platform='instagram')"


def test_thread_owners_for_500_psids() -> None:
    with routing() as emu, emu.client() as bot:
        owned = {_psid(i) for i in range(0, 500, 7)}
        bot.batch([BatchOp.take_thread_control(p) for p in sorted(owned)])
        emu.clear_request_log()
        psids = [_psid(i) for i in range(499)] + ["bad/psid"]
        with pytest.raises(ValueError, match="psid"):
            bot.thread_owners(psids)
        # A PSID is digits, in a batch as in one call: a token passed as one is not sent.
        psids[-1] = "EAAGnot-a-psid"
        with pytest.raises(ValueError, match="psid") as refused:
            bot.thread_owners(psids)
        assert "EAAG" not in str(refused.value) and batch_requests(emu) == 0
        psids[-1] = "0123"  # a leading 0: no user, to the emulator
        owners = bot.thread_owners(psids)
        assert len(owners) == 500
        assert batch_requests(emu) == 10
        for p, o in zip(psids[:-1], owners):
            if p in owned:
                assert isinstance(o, ThreadOwner) and o.app_id == emu.primary.app_id, (p, o)
            else:
                assert o is None, (p, o)
        assert isinstance(owners[-1], InvalidParameterError)
        with pytest.raises(TypeError, match="psids"):
            bot.thread_owners("1234")
