"""The cyclic garbage collector's thresholds for a service process (web, worker, scheduler).

CPython's defaults, (700, 10, 10), start a young collection every 700 net allocations, and a full
one whenever the old generation has grown by a quarter since the last. A worker deciding one
shop's batch of webhooks makes and keeps thousands of ORM objects, rows and statement parts, so
the collector ran again and again over a growing heap: in the flash sale's decision pipe
(`benchmarks/flash_pipe.py`) it was half of the loop's CPU, charged to whatever allocated at the
time (py-spy showed psycopg's placeholder parsing, which only allocates). Reference counting frees
nearly everything the service makes; the collector only finds cycles, and those can wait for
50,000 allocations (a few MB at most) instead of 700.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 50, 100)  # young; young collections per middle one; middle ones per full one


def tune_collector() -> None:
    """Set `THRESHOLDS` for this process (idempotent; every `build_services` calls it)."""
    gc.set_threshold(*THRESHOLDS)
