"""The Celery app of the fault-injection suite's worker processes (`celery -A tests.fault_worker worker`).

It is `connector.tasks`'s app, with the shop's store reached over HTTP on loopback (tests/fault_store.py)
instead of living in this process: the worker can then be killed with -9 while the store keeps its state.
"""

from __future__ import annotations

import os

from adapters.sandbox import register_store
from connector.tasks import app
from tests.fault_store import RemoteStore

register_store(RemoteStore(os.environ["FAULT_STORE_DOMAIN"], os.environ["FAULT_STORE_URL"]))  # type: ignore[arg-type]

__all__ = ["app"]
