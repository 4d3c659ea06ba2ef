"""Enums and argument helpers shared by both clients."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Iterable, List, Optional, Type, TypeVar, Union

__all__ = ["Folder", "Platform"]


class Folder(enum.Enum):
    """A folder of the Page inbox."""

    INBOX = "inbox"
    OTHER = "other"
    PAGE_DONE = "page_done"
    SPAM = "spam"


class Platform(enum.Enum):
    """The platform of a conversation."""

    MESSENGER = "messenger"
    INSTAGRAM = "instagram"


E = TypeVar("E", bound=enum.Enum)

# Out-of-range numbers are clamped to a value the core refuses with its own
# message, so the rule (and its wording) lives in one place: the core.
_TOO_BIG = 2**32


def text(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    return value


def opt_text(value: object, argument: str) -> Optional[str]:
    if value is None:
        return None
    return text(value, argument)


def enum_value(value: Union[E, str, None], cls: Type[E], argument: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, cls):
        return str(value.value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{argument} must be a {cls.__name__} or a str, not {type(value).__name__}")


def whole_seconds(duration: Union[int, timedelta], argument: str = "duration") -> int:
    if isinstance(duration, timedelta):
        if duration % timedelta(seconds=1):
            raise ValueError(f"invalid argument `{argument}`: must be a whole number of seconds")
        seconds = duration // timedelta(seconds=1)
    elif isinstance(duration, int) and not isinstance(duration, bool):
        seconds = duration
    else:
        raise TypeError(f"{argument} must be an int (seconds) or a datetime.timedelta, not {type(duration).__name__}")
    return min(max(seconds, 0), _TOO_BIG)


def count(value: Optional[int], argument: str) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{argument} must be an int, not {type(value).__name__}")
    return min(max(value, 0), _TOO_BIG)


def seconds_arg(value: Union[float, int, timedelta, None], argument: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value < 0:  # NaN or negative
            raise ValueError(f"invalid argument `{argument}`: must be a non-negative number of seconds")
        return float(value)
    raise TypeError(f"{argument} must be a number of seconds or a datetime.timedelta, not {type(value).__name__}")


def str_list(values: Optional[Iterable[str]], argument: str) -> Optional[List[str]]:
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{argument} must be a list of strings, not a single {type(values).__name__}")
    out = list(values)
    for v in out:
        if not isinstance(v, str):
            raise TypeError(f"{argument} must hold only strings, not {type(v).__name__}")
    return out
