"""After the token: subscribe the shop's webhooks (idempotently) and read what the service stores
about the shop. Both run over the per-shop GraphQL client."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from connector.domain.model import Platform, Shop

from .graphql import GraphQLClient
from .normalise import SUBSCRIBED_TOPICS


def topic_enum(topic: str) -> str:
    """"orders/create" -> "ORDERS_CREATE" (the `WebhookSubscriptionTopic` value)."""
    return topic.replace("/", "_").upper()


@dataclass
class SubscriptionReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def ensure_webhooks(gql: GraphQLClient, uri: str, topics: Iterable[str] = SUBSCRIBED_TOPICS) -> SubscriptionReport:
    """Make the app's subscriptions for `topics` point at `uri`: create what is missing, repoint what
    points elsewhere (the app moved), leave the rest. Running it again changes nothing."""
    existing: dict[str, list[dict]] = {}
    after = None
    while True:
        connection = gql.query("WebhookSubscriptions", {"after": after})["webhookSubscriptions"]
        for node in connection["nodes"]:
            existing.setdefault(node["topic"], []).append(node)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    report = SubscriptionReport()
    for topic in topics:
        enum = topic_enum(topic)
        current = existing.get(enum, [])
        if any(node["uri"] == uri for node in current):
            report.unchanged.append(topic)
        elif current:
            gql.mutate("WebhookSubscriptionUpdate", {
                "id": current[0]["id"], "webhookSubscription": {"uri": uri, "format": "JSON"}},
                "webhookSubscriptionUpdate")
            report.updated.append(topic)
        else:
            gql.mutate("WebhookSubscriptionCreate", {
                "topic": enum, "webhookSubscription": {"uri": uri, "format": "JSON"}},
                "webhookSubscriptionCreate")
            report.created.append(topic)
    return report


def shop_details(gql: GraphQLClient, domain: str) -> Shop:
    """The shop as the model keeps it: name, currency, primary language, IANA time zone."""
    data = gql.query("ShopDetails")
    shop = data["shop"]
    primary = next((loc["locale"] for loc in data.get("shopLocales") or () if loc.get("primary")), None)
    return Shop(
        platform=Platform.SHOPIFY,
        domain=domain,
        name=shop["name"],
        currency=shop["currencyCode"],
        locale=primary or "en",
        timezone=shop["ianaTimezone"] or "UTC",
    )
