"""The ``messenger_handover`` logger: the core's record of every HTTP attempt
(DEBUG), retry and throttle wait (WARNING), as standard :mod:`logging` records.

Silent until the application configures logging: a record goes out only when
the logger passes its level *and* some handler is configured (no NullHandler
here, and ``logging.lastResort`` never prints our warnings to an unconfigured
app's stderr). Each record carries the OpenTelemetry attributes as extras,
under their dotted names (``getattr(record, "http.response.status_code")``),
plus ``record.event`` (``http.attempt.end``, ``http.retry``,
``http.throttle_wait``).

The cost when nobody listens is one atomic load in the core: the core is told
the logger's level here, again whenever any logging level changes. Python's
logging clears every logger's level cache (``Logger._cache``) on each such
change (``setLevel``, ``basicConfig(level=...)``, ``dictConfig``,
``logging.disable``), which is the signal we hook.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from . import _native

logger = logging.getLogger("messenger_handover")


def _threshold() -> int:
    """The lowest level the logger passes (what ``isEnabledFor`` answers)."""
    return max(logger.getEffectiveLevel(), logger.manager.disable + 1)


def _sync() -> None:
    _native._set_log_level(_threshold())


class _LevelCache(Dict[int, bool]):
    """``Logger._cache`` that tells the core when logging clears it."""

    __slots__ = ()

    def clear(self) -> None:
        super().clear()
        _sync()


def _emit(levelno: int, event: str, message: str, attributes: Dict[str, Any]) -> None:
    """Called by the core, for records at or above the synced level."""
    if not logger.isEnabledFor(levelno) or not logger.hasHandlers():
        return
    attributes["event"] = event
    record = logger.makeRecord(logger.name, levelno, "messenger_handover/core", 0, message, (), None,
                               extra=attributes)
    logger.handle(record)


if isinstance(getattr(logger, "_cache", None), dict):
    logger._cache = _LevelCache(logger._cache)  # type: ignore[attr-defined]
_sync()
