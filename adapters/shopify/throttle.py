"""Cost-based throttling for the Admin GraphQL API, one bucket per shop.

Shopify reports the bucket in every response (`extensions.cost.throttleStatus`): its maximum, what is
left and how fast it refills. Before a request we wait until the bucket holds what the operation cost
last time, so a burst of calls slows down instead of getting THROTTLED."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_COST = 10.0  # a mutation's usual cost; queries learn their own cost on first use


class CostThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._available: float | None = None
        self._maximum = 0.0
        self._restore_rate = 0.0
        self._seen_at = 0.0
        self._costs: dict[str, float] = {}

    def delay_for(self, operation: str) -> float:
        """Seconds to wait before sending `operation` (0 when the bucket is known to hold enough)."""
        with self._lock:
            if self._available is None or self._restore_rate <= 0:
                return 0.0
            cost = min(self._costs.get(operation, DEFAULT_COST), self._maximum or float("inf"))
            elapsed = self._clock() - self._seen_at
            now_available = min(self._maximum, self._available + elapsed * self._restore_rate)
            missing = cost - now_available
            return missing / self._restore_rate if missing > 0 else 0.0

    def record(self, operation: str, cost: Mapping[str, Any] | None) -> float:
        """Take in a response's `extensions.cost`. Returns seconds to wait when the call was THROTTLED."""
        if not cost:
            return 0.0
        status = cost.get("throttleStatus") or {}
        requested = cost.get("requestedQueryCost")
        with self._lock:
            if requested is not None:
                self._costs[operation] = float(requested)
            if status:
                self._available = float(status.get("currentlyAvailable", 0))
                self._maximum = float(status.get("maximumAvailable", 0))
                self._restore_rate = float(status.get("restoreRate", 0))
                self._seen_at = self._clock()
            if requested is None or self._restore_rate <= 0 or self._available is None:
                return 0.0
            missing = float(requested) - self._available
            return missing / self._restore_rate if missing > 0 else 0.0


_BUCKETS: dict[str, CostThrottle] = {}
_BUCKETS_LOCK = threading.Lock()


def for_shop(shop: str) -> CostThrottle:
    """The process-wide bucket of a shop: every client of that shop shares it."""
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(shop)
        if bucket is None:
            bucket = _BUCKETS[shop] = CostThrottle()
        return bucket
