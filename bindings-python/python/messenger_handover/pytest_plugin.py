"""pytest plugin (entry point ``pytest11``): an ``emulator`` fixture.

``def test_handover(emulator): client = emulator.client(); ...`` gets a fresh
emulator per test (Handover mode, 120 conversations). Mark a test with
``@pytest.mark.emulator(mode="routing", conversations=500)`` to change that.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from .testing import Emulator


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "emulator(**kwargs): arguments for the messenger_handover `emulator` fixture"
    )


@pytest.fixture
def emulator(request: Any) -> Iterator[Emulator]:
    """A started :class:`messenger_handover.testing.Emulator`, stopped after the test."""
    marker = request.node.get_closest_marker("emulator")
    kwargs = dict(marker.kwargs) if marker else {}
    with Emulator(**kwargs) as emu:
        yield emu
