"""The Celery app of the flash-sale benchmark's workers (`celery -A tests.flash_sale_worker worker`).

It is `connector.tasks`'s app; the one difference is where Shopify is: every Admin GraphQL client of
this process sends to the local fake shop (tests/shopify_store_server.py) named by
`FLASH_SHOPIFY_URL` instead of `https://{shop}`. Nothing else changes: the same adapter, documents,
retries and throttle run as in production.
"""

from __future__ import annotations

import os

from adapters.shopify import graphql
from connector.tasks import app


def point_shopify_at(url: str) -> None:
    """Make every `GraphQLClient` made from now on in this process call `url` instead of the shop."""
    made = graphql.GraphQLClient.__init__
    if getattr(made, "_points_at", None) is not None:
        return

    def init(self: graphql.GraphQLClient, *args: object, **kwargs: object) -> None:
        made(self, *args, **kwargs)  # type: ignore[arg-type]
        self.url = self.url.replace(f"https://{self.shop}", url.rstrip("/"), 1)

    init._points_at = url  # type: ignore[attr-defined]
    graphql.GraphQLClient.__init__ = init  # type: ignore[method-assign]


point_shopify_at(os.environ["FLASH_SHOPIFY_URL"])

__all__ = ["app", "point_shopify_at"]
