"""What each outbox action does to a sandbox order, in the sandbox store's names for its calls.

The sandbox client offers no combined start of a wait (`adapters.base.BackorderStarter`), so a
`start_backorder` action reaches it as its three parts, in order: the outbox's path for any store
without one. The end-to-end tests count the calls each decided action should make against the
calls the store saw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

STORE_CALLS: dict[str, tuple[str, ...]] = {
    "start_backorder": ("add_tags", "hold", "set_eta"),
    "add_tags": ("add_tags",),
    "remove_tags": ("remove_tags",),
    "hold_fulfillment": ("hold",),
    "release_fulfillment": ("release",),
    "capture_payment": ("capture",),
    "set_eta": ("set_eta",),
}
CALL_NAMES = frozenset(call for calls in STORE_CALLS.values() for call in calls)


def calls_decided(actions: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """The (call, order) counts the store should see for these (action kind, order) pairs."""
    return Counter((call, order) for kind, order in actions for call in STORE_CALLS.get(kind, ()))
