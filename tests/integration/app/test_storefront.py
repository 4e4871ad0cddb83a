"""The public storefront: availability JSON (cached, CORS), the landing page, the sandbox product page."""

from __future__ import annotations

from decimal import Decimal

from connector.storage.tables import VariantRow
from tests.integration.app.test_purchase_order_pages import create_po

BASE = "/storefront/sandbox/shop-one.sandbox"


def test_in_stock_and_backordered_items(sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    client = sandbox.client  # not signed in: the storefront is public
    mug = client.get(f"{BASE}/availability/MUG")
    assert mug.status_code == 200
    assert mug.get_json() | {"as_of": None} == {
        "shop": "shop-one.sandbox", "platform": "sandbox", "sku": "MUG", "title": "Mug", "status": "in_stock",
        "in_stock": True, "available": 49, "ships_by": None, "window": None, "message": "In stock",
        "product_url": "https://shop-one.sandbox/products/mug", "as_of": None}
    tee = client.get(f"{BASE}/availability/TEE").get_json()
    assert tee["status"] == "backorder" and not tee["in_stock"]
    assert tee["ships_by"] == "2026-11-17" and tee["window"] == {"p50": "2026-11-13", "p90": "2026-11-17"}
    assert tee["message"] == "Ships by 17 November 2026"


def test_answers_are_public_cacheable_and_conditional(sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    response = sandbox.client.get(f"{BASE}/availability/TEE")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = sandbox.client.get(f"{BASE}/availability/TEE", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_purchase_order_brings_the_date_forward(merchant, sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    create_po(merchant, lines=(("TEE", 5),))
    tee = sandbox.client.get(f"{BASE}/availability/TEE").get_json()
    assert tee["ships_by"] == "2026-11-07"  # 3 units of the PO are not spoken for
    more = sandbox.client.get(f"{BASE}/availability/TEE?quantity=4").get_json()
    assert more["ships_by"] == "2026-11-17"  # 4 more would need a restock at the lead time


def test_sold_out_variants_and_lookup_by_variant_id(sandbox, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("VASE", "Vase", "40.00", 0, sells_when_out_of_stock=False)
    sandbox.settle()
    with services.db.session() as s:
        s.add(VariantRow(shop_id=shop_id, sku="BOWL", title="Bowl", price=Decimal(12), variant_id="gid-77",
                         sells_when_out_of_stock=True))
    assert sandbox.client.get(f"{BASE}/availability/VASE").get_json()["status"] == "sold_out"
    bowl = sandbox.client.get(f"{BASE}/availability?variant=gid-77").get_json()
    assert bowl["sku"] == "BOWL" and bowl["status"] == "untracked" and bowl["message"] == "In stock"
    missing = sandbox.client.get(f"{BASE}/availability?variant=nope")
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_or_uninstalled_shops_are_not_found(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    assert sandbox.client.get("/storefront/sandbox/nobody.sandbox/availability/TEE").status_code == 404
    assert sandbox.client.get("/storefront/mars/shop-one.sandbox/availability/TEE").status_code == 404
    services.shops.set_status("sandbox", "shop-one.sandbox", "uninstalled")
    assert sandbox.client.get(f"{BASE}/availability/TEE").status_code == 404


def test_the_landing_page_lists_long_lead_times_with_their_schedule(merchant, sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("CHAIR", "Ash chair", "149.00", 3, lead_time_days=35)
    sandbox.settle()
    create_po(merchant, lines=(("TEE", 5),))
    html = sandbox.client.get(f"{BASE}/").get_data(as_text=True)
    tee = html.split('data-sku="TEE"')[1].split("</article>")[0]
    assert "Ships by 7 November 2026" in tee and "5 expected 6 November" in tee
    assert f'href="{BASE}/demo-product/TEE"' in tee
    chair = html.split('data-sku="CHAIR"')[1].split("</article>")[0]
    assert "In stock" in chair and "restocks take about 35 days" in chair
    assert 'data-sku="MUG"' not in html  # ships at once, restocks quickly


def test_the_sandbox_product_page_embeds_the_widget(sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    html = sandbox.client.get(f"{BASE}/demo-product/TEE").get_data(as_text=True)
    assert '<script src="/static/backorder-widget.js" defer></script>' in html
    assert 'data-backorder-eta data-platform="sandbox" data-shop="shop-one.sandbox" data-sku="TEE"' in html
    assert sandbox.client.get(f"{BASE}/demo-product/NOPE").status_code == 404
    widget = sandbox.client.get("/static/backorder-widget.js")
    assert widget.status_code == 200 and b"data-backorder-eta" in widget.data


def test_the_demo_product_page_is_the_sandbox_stores_only(app, services) -> None:  # type: ignore[no-untyped-def]
    services.shops.connect("shopify", "real.myshopify.com", name="Real", credentials={}, webhook_secret=b"x")
    assert app.test_client().get("/storefront/shopify/real.myshopify.com/demo-product/TEE").status_code == 404

