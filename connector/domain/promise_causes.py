"""Why a promised date was made or moved, as a short code the customer's page puts into words.

A promise rests on a source (`BackorderRow.source`): a purchase order on its way ("po:<id>"), a
restock at a supplier's or the shop's lead time ("supplier:<id>", "variant", "lead_time"), or a
dropship supplier ("dropship:<id>"). Comparing the source before and after a change says why it
changed. Pure: strings in, a code out.
"""

from __future__ import annotations

CAUSES = (
    "incoming_shipment",  # first promise: stock on a purchase order on its way
    "restock",  # first promise: a restock at the supplier's lead time
    "dropship",  # (first or new) promise: a supplier ships it to you directly
    "shipment_moved",  # the same supplier shipment now arrives on another date
    "shipment_short",  # the shipment it waited for no longer covers it (others were ahead, or it was cut)
    "new_shipment",  # a new shipment was ordered that brings it sooner (or at all)
    "restock_estimate",  # the restock estimate changed (lead time, or orders ahead of it)
)


def _kind(source: str | None) -> str:
    if not source:
        return "restock"
    head = source.split(":", 1)[0]
    return {"po": "po", "dropship": "dropship"}.get(head, "restock")


def promise_cause(previous_source: str | None, source: str | None, first: bool) -> str:
    """The cause code of a promise made (`first`) or moved from `previous_source` to `source`."""
    kind = _kind(source)
    if first:
        return {"po": "incoming_shipment", "dropship": "dropship"}.get(kind, "restock")
    before = _kind(previous_source)
    if kind == "dropship":
        return "dropship"
    if kind == "po":
        return "shipment_moved" if previous_source == source else "new_shipment"
    if before == "po":
        return "shipment_short"
    return "restock_estimate"
