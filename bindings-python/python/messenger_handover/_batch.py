"""Operations for :meth:`Client.batch`: ``BatchOp.thread_owner(psid)`` and
friends, one class method per operation. Each is plain data (``to_dict()``),
the form the core reads; a plain dict in that form works as well:
``{"op": "thread_owner", "psid": "123"}``. The core checks every argument
when the batch is called, before anything is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, Mapping, Optional, Union

from ._types import Platform, enum_value, opt_text, text, whole_seconds

__all__ = ["BatchOp"]


class BatchOp:
    """One operation of a batch request (see :meth:`Client.batch`)."""

    __slots__ = ("_data",)
    _data: Dict[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BatchOp is immutable")

    @classmethod
    def _control(cls, op: str, psid: str, metadata: Optional[str]) -> "BatchOp":
        return cls({"op": op, "psid": text(psid, "psid"), "metadata": opt_text(metadata, "metadata")})

    @classmethod
    def thread_owner(cls, psid: str) -> "BatchOp":
        return cls({"op": "thread_owner", "psid": text(psid, "psid")})

    @classmethod
    def pass_thread_control(cls, psid: str, target_app_id: str, metadata: Optional[str] = None) -> "BatchOp":
        return cls(
            {
                "op": "pass_thread_control",
                "psid": text(psid, "psid"),
                "target_app_id": text(target_app_id, "target_app_id"),
                "metadata": opt_text(metadata, "metadata"),
            }
        )

    @classmethod
    def pass_thread_control_to_page_inbox(
        cls, psid: str, metadata: Optional[str] = None, platform: Union[Platform, str, None] = None
    ) -> "BatchOp":
        """To the Page Inbox, or the Instagram Inbox with ``platform="instagram"``."""
        return cls(
            {
                "op": "pass_thread_control_to_page_inbox",
                "psid": text(psid, "psid"),
                "metadata": opt_text(metadata, "metadata"),
                "platform": enum_value(platform, Platform, "platform"),
            }
        )

    @classmethod
    def take_thread_control(cls, psid: str, metadata: Optional[str] = None) -> "BatchOp":
        return cls._control("take_thread_control", psid, metadata)

    @classmethod
    def request_thread_control(cls, psid: str, metadata: Optional[str] = None) -> "BatchOp":
        return cls._control("request_thread_control", psid, metadata)

    @classmethod
    def release_thread_control(cls, psid: str, metadata: Optional[str] = None) -> "BatchOp":
        return cls._control("release_thread_control", psid, metadata)

    @classmethod
    def extend_thread_control(cls, psid: str, duration: Union[int, timedelta]) -> "BatchOp":
        """``duration``: whole seconds (int) or a ``timedelta``, at most 7 days."""
        return cls({"op": "extend_thread_control", "psid": text(psid, "psid"), "duration": whole_seconds(duration)})

    @classmethod
    def secondary_receivers(cls) -> "BatchOp":
        return cls({"op": "secondary_receivers"})

    @classmethod
    def feature_status(cls) -> "BatchOp":
        return cls({"op": "feature_status"})

    @property
    def op(self) -> str:
        """The operation's name, e.g. ``"thread_owner"``."""
        return str(self._data["op"])

    def to_dict(self) -> Dict[str, Any]:
        """The plain data the core reads (a new dict each time)."""
        return dict(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BatchOp) and other._data == self._data

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._data.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._data.items() if k != "op" and v is not None)
        return f"BatchOp.{self.op}({args})"
