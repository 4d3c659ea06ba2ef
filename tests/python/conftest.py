from __future__ import annotations

import pytest

from messenger_handover.testing import Emulator

PSID = "1234567890"


@pytest.fixture
def routing_emulator():
    with Emulator(mode="routing", conversations=50) as emu:
        yield emu
