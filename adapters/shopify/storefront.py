"""What the shop's theme shows per variant: the app-owned variant metafield the theme app extension reads.

At install (and on each upkeep, idempotently) the metafield definition is created in the app's
reserved namespace (`$app`) with storefront read access, so Liquid can read it
(`variant.metafields['$app'].backorder_eta` in the extension's blocks). Values are written with
`metafieldsSet`, at most `METAFIELDS_PER_CALL` (Shopify's limit: 25) per call; a set is
idempotent, so repeating a batch after a failure is harmless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from adapters.base import UserError
from connector.domain.model import StorefrontValue

from .graphql import GraphQLClient
from .ids import gid

log = logging.getLogger(__name__)

NAMESPACE = "$app"
KEY = "backorder_eta"
METAFIELDS_PER_CALL = 25  # metafieldsSet accepts at most 25 metafields per call
DEFINITION = {
    "name": "Backorder ship date",
    "description": "Backorder Connector: status, ships-by date, P50/P90 window and the shopper's message.",
    "namespace": NAMESPACE,
    "key": KEY,
    "type": "json",
    "ownerType": "PRODUCTVARIANT",
    "access": {"storefront": "PUBLIC_READ"},
}


def ensure_definition(gql: GraphQLClient) -> bool:
    """Create the variant metafield definition unless it exists. Returns whether it was created now."""
    try:
        gql.mutate("MetafieldDefinitionCreate", {"definition": DEFINITION}, "metafieldDefinitionCreate")
    except UserError as exc:
        codes = {str(e.get("code")) for e in exc.details or ()}
        if codes == {"TAKEN"}:  # made at an earlier install: nothing to do
            return False
        raise
    return True


def metafield_value(value: StorefrontValue) -> str:
    """The JSON the theme reads: status, ships_by, ships_p50, ships_p90, message (dates ISO 8601)."""

    def iso(d: object) -> str | None:
        return d.isoformat() if d is not None else None  # type: ignore[attr-defined]

    return json.dumps(
        {
            "status": value.status,
            "ships_by": iso(value.ships_by),
            "ships_p50": iso(value.ships_p50),
            "ships_p90": iso(value.ships_p90),
            "message": value.message,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def publish(gql: GraphQLClient, values: Sequence[StorefrontValue]) -> int:
    """Write each value onto its variant, 25 per `metafieldsSet`. Returns how many calls were made."""
    inputs = []
    for value in values:
        if not value.variant_id:
            log.warning("storefront value of %s not written: no Shopify variant id", value.sku)
            continue
        inputs.append(
            {
                "ownerId": gid("ProductVariant", value.variant_id),
                "namespace": NAMESPACE,
                "key": KEY,
                "type": "json",
                "value": metafield_value(value),
            }
        )
    calls = 0
    for i in range(0, len(inputs), METAFIELDS_PER_CALL):
        gql.mutate("MetafieldsSet", {"metafields": inputs[i : i + METAFIELDS_PER_CALL]}, "metafieldsSet")
        calls += 1
    return calls
