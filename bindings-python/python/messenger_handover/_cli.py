"""The ``messenger-handover`` console script: the same command as the Rust
binary (``messenger_handover_cli::run``), through the native module."""

from __future__ import annotations

import signal
import sys

from . import _native


def main() -> None:
    try:
        # Ctrl-C belongs to the command, as in the binary: a quick call dies
        # at once, a long export stops between two lines. Python's own
        # handler would only raise KeyboardInterrupt (and a traceback) after.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = _native.run_cli(["messenger-handover", *sys.argv[1:]])
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
