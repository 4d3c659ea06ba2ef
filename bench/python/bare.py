"""Baseline for the cold-start workload: the bare interpreter plus the harness
(common.py), no client. Subtract it from a client's wall time to see the
client's own import + first-call cost."""

import time

from common import emit_cold, parse_args

t = time.perf_counter()
emit_cold("py: bare interpreter (baseline)", parse_args(), (time.perf_counter() - t) * 1e3, 0)
