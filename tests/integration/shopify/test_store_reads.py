"""Reconciliation reads: orders updated since, stock levels, variants (paginated)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.shopify.client import ShopifyStoreClient
from adapters.shopify.graphql import GraphQLClient
from adapters.shopify.mapping import order_from_rest
from tests.shared_files import load_fixture
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SHOP


def page(nodes: list, cursor: str | None) -> dict[str, Any]:
    return {"pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor}, "nodes": nodes}


def gql_line(li: dict[str, Any], currency: str = "USD") -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{li['id']}", "sku": li.get("sku"), "name": li["name"],
        "quantity": li["quantity"], "currentQuantity": li["quantity"], "unfulfilledQuantity": li["quantity"],
        "requiresShipping": li["requires_shipping"], "isGiftCard": False,
        "variant": {"id": f"gid://shopify/ProductVariant/{li['variant_id']}"} if li.get("variant_id") else None,
        "product": {"id": f"gid://shopify/Product/{li['product_id']}"} if li.get("product_id") else None,
        "originalUnitPriceSet": {"presentmentMoney": {"amount": li["price"], "currencyCode": currency},
                                 "shopMoney": {"amount": li["price"], "currencyCode": currency}},
        "discountAllocations": [{"allocatedAmountSet": money(d["amount"], currency)}
                                for d in li.get("discount_allocations", [])],
        "taxLines": [{"priceSet": money(t["price"], currency)} for t in li.get("tax_lines", [])],
    }


def money(amount: str, currency: str) -> dict[str, Any]:
    return {"presentmentMoney": {"amount": amount, "currencyCode": currency},
            "shopMoney": {"amount": amount, "currencyCode": currency}}


def gql_order(rest: dict[str, Any], lines: list[dict[str, Any]], more_lines: str | None = None) -> dict[str, Any]:
    customer = rest["customer"]
    return {
        "id": f"gid://shopify/Order/{rest['id']}", "name": rest["name"], "createdAt": rest["created_at"],
        "updatedAt": rest["updated_at"], "processedAt": rest.get("processed_at") or rest["created_at"],
        "cancelledAt": rest["cancelled_at"],
        "totalPriceSet": {"presentmentMoney": {"amount": rest["total_price"], "currencyCode": rest["currency"]},
                                 "shopMoney": {"amount": rest["total_price"], "currencyCode": rest["currency"]}},
        "displayFinancialStatus": rest["financial_status"].upper(), "currencyCode": rest["currency"],
        "presentmentCurrencyCode": rest["currency"], "taxesIncluded": rest["taxes_included"],
        "email": rest["email"], "customerLocale": None, "tags": [],
        "statusPageUrl": f"https://{TEST_SHOP}/orders/{rest['id']}", "paymentTerms": None,
        "customer": {"id": f"gid://shopify/Customer/{customer['id']}", "firstName": customer["first_name"],
                     "lastName": customer["last_name"], "locale": "en", "tags": []},
        "purchasingEntity": None,
        "lineItems": page(lines, more_lines),
    }


def test_orders_updated_since_pages_through_orders_and_lines(gql: GraphQLClient, admin: ShopifyAdminMock) -> None:
    rest = load_fixture("shopify", "rest_order.json")["order"]
    rest["customer"]["locale"] = "en"  # GraphQL's Customer.locale is never null
    rest["line_items"][0]["discount_allocations"] = [{"amount": "20.00", "discount_application_index": 0}]
    rest["line_items"][0]["tax_lines"] = [{"price": "10.74", "rate": 0.06, "title": "State Tax"}]
    lines = [gql_line(li) for li in rest["line_items"]]
    second = gql_order(rest, [], None) | {"id": "gid://shopify/Order/2", "name": "#1002",
                                          "purchasingEntity": {"__typename": "PurchasingCompany",
                                                               "company": {"id": "gid://shopify/Company/5"}}}
    admin.on("OrdersUpdatedSince",
             {"orders": page([gql_order(rest, lines[:1], "L1")], "O1")},
             {"orders": page([second], None)})
    admin.on("OrderLineItems", {"order": {"id": "gid://shopify/Order/450789469", "lineItems": page(lines[1:], None)}})

    client = ShopifyStoreClient(TEST_SHOP, gql)
    orders = list(client.orders_updated_since(datetime(2026, 11, 25, 9, 30, tzinfo=UTC)))

    first_query, second_query = admin.called("OrdersUpdatedSince")
    assert first_query == {"query": "updated_at:>='2026-11-25T09:30:00Z'", "after": None, "withPaymentTerms": True}
    assert second_query["after"] == "O1"
    assert admin.called("OrderLineItems") == [{"id": "gid://shopify/Order/450789469", "after": "L1"}]
    assert [o.external_id for o in orders] == ["450789469", "2"]
    assert orders[1].customer.is_reseller and not orders[0].customer.is_reseller
    # the GraphQL read and the webhook mapping agree on the same real order
    assert orders[0] == order_from_rest(TEST_SHOP, {**rest, "order_status_url": f"https://{TEST_SHOP}/orders/{rest['id']}"})
    assert orders[0].lines[0].unit_price == Decimal("189.74")  # 199 - 20 discount + 10.74 tax


def test_stock_levels_per_location_skipping_untracked(gql: GraphQLClient, admin: ShopifyAdminMock) -> None:
    levels = load_fixture("shopify", "rest_inventory_levels.json")["inventory_levels"]
    skus = {808950810: "IPOD2008PINK", 39072856: ""}

    def level(lv: dict[str, Any], tracked: bool = True) -> dict[str, Any]:
        item = lv["inventory_item_id"]
        return {"updatedAt": lv["updated_at"], "quantities": [{"name": "available", "quantity": lv["available"]}],
                "item": {"id": f"gid://shopify/InventoryItem/{item}", "sku": skus.get(item, "UNTRACKED"),
                         "tracked": tracked, "variant": {"id": f"gid://shopify/ProductVariant/{item}"}}}

    def at(location: int) -> list[dict[str, Any]]:
        return [level(lv) for lv in levels if lv["location_id"] == location]

    untracked = level({"inventory_item_id": 1, "location_id": 487838322, "available": 3,
                       "updated_at": "2018-05-07T15:33:38-04:00"}, tracked=False)
    admin.on("Locations", {"locations": page([
        {"id": "gid://shopify/Location/487838322", "isActive": True},
        {"id": "gid://shopify/Location/905684977", "isActive": True},
        {"id": "gid://shopify/Location/1", "isActive": False}], None)})
    def levels_of(v: dict[str, Any]) -> dict[str, Any]:
        if v["id"].endswith("/905684977"):
            connection = page(at(905684977), None)
        elif v["after"] is None:  # two pages at the first location
            connection = page(at(487838322)[:1], "p2")
        else:
            connection = page(at(487838322)[1:] + [untracked], None)
        return {"location": {"id": v["id"], "inventoryLevels": connection}}

    admin.on("LocationInventoryLevels", levels_of)
    result = list(ShopifyStoreClient(TEST_SHOP, gql).stock_levels())
    assert sorted((s.sku, s.item_ref, s.location, s.available) for s in result) == sorted([
        ("shopify-variant:39072856", "39072856", "487838322", 27),
        ("IPOD2008PINK", "808950810", "487838322", 9),
        ("IPOD2008PINK", "808950810", "905684977", 1),
        ("shopify-variant:39072856", "39072856", "905684977", 3),
    ])
    assert [v["id"][-9:] for v in admin.called("LocationInventoryLevels")] == ["487838322", "487838322", "905684977"]
    assert all(s.updated_at is not None for s in result)


def test_variants_from_the_product_fixture(gql: GraphQLClient, admin: ShopifyAdminMock) -> None:
    product = load_fixture("shopify", "rest_product.json")["product"]
    nodes = [{"id": f"gid://shopify/ProductVariant/{v['id']}", "sku": v["sku"], "title": v["title"],
              "price": v["price"], "inventoryPolicy": v["inventory_policy"].upper(), "updatedAt": v["updated_at"],
              "inventoryItem": {"id": f"gid://shopify/InventoryItem/{v['id'] + 1}"},
              "product": {"id": f"gid://shopify/Product/{product['id']}", "title": product["title"],
                          "handle": product["handle"]}} for v in product["variants"]]
    admin.on("ProductVariants", {"productVariants": page(nodes, None)})
    variants = list(ShopifyStoreClient(TEST_SHOP, gql).variants())
    assert [(v.sku, v.price, v.sells_when_out_of_stock, v.item_ref) for v in variants][0] == (
        "IPOD2008PINK", Decimal("199.00"), True, "808950811")
    assert variants[2].title == "IPod Nano - 8GB - Green"
