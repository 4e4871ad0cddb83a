"""The theme app extension (extensions/backorder-eta): Shopify's theme-check, and its blocks rendered
with python-liquid against sample metafields in English and Italian."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from tests.conftest import need
from tests.shared_files import REPO
from tests.theme_render import EXTENSION, locale_strings, render_block, split_schema, variant

TOOLS = REPO / "tools" / "theme-check"
BACKORDER = {"status": "backorder", "ships_by": "2026-12-17", "ships_p50": "2026-12-10", "ships_p90": "2026-12-17",
             "message": "Spedizione entro il 17 dicembre 2026"}
IN_STOCK = {"status": "in_stock", "ships_by": None, "ships_p50": None, "ships_p90": None, "message": "Disponibile"}


def product() -> dict:
    red = variant(8001, "TEE-RED", 2500, BACKORDER)
    blue = variant(8002, "TEE-BLUE", 2500, IN_STOCK)
    green = variant(8003, "TEE-GREEN", 2500, None)  # no value written (yet): nothing is claimed
    return {"id": 7001, "title": "Organic tee", "url": "/products/tee", "selected_or_first_available_variant": red,
            "variants": [red, blue, green]}


def test_theme_check_passes_offline() -> None:
    need(shutil.which("node") is not None, "node is not installed")
    need((TOOLS / "node_modules" / "@shopify" / "theme-check-node").is_dir(),
         "theme-check is not installed (make theme-check-tools)")
    run = subprocess.run(["node", str(TOOLS / "check.js"), str(EXTENSION)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "theme-check: 0 offenses" in run.stdout


def test_the_extension_has_its_parts() -> None:
    assert 'type = "theme"' in (EXTENSION / "shopify.extension.toml").read_text()
    _, block = split_schema(EXTENSION / "blocks" / "backorder-eta.liquid")
    _, embed = split_schema(EXTENSION / "blocks" / "cart-eta.liquid")
    assert block["target"] == "section" and embed["target"] == "body"
    for language in ("en", "it"):
        assert set(locale_strings(language)["backorder_eta"]) == set(locale_strings("en")["backorder_eta"])


def test_the_block_renders_the_selected_variant_in_english() -> None:
    html = render_block("backorder-eta", "en", product=product(), primary=False)
    assert 'data-backorder-eta data-product-id="7001"' in html
    line = re.search(r"data-backorder-eta-line>(.*?)</p>", html).group(1)
    window = re.search(r"data-backorder-eta-window>(.*?)</p>", html).group(1)
    assert line == "Ships by December 17, 2026"
    assert window == "Most likely December 10, 2026, at the latest December 17, 2026"


def test_the_block_renders_in_italian_with_the_services_own_sentence_in_the_primary_language() -> None:
    html = render_block("backorder-eta", "it", product=product(), primary=True)
    assert "Spedizione entro il 17 dicembre 2026" in html  # the metafield's message
    assert "Più probabilmente il 10/12/2026, al più tardi il 17/12/2026" in html
    other = render_block("backorder-eta", "it", product=product(), primary=False)
    assert "Spedizione entro il 17/12/2026" in other  # translated by the extension's locale


def test_every_variants_text_is_embedded_for_instant_switching() -> None:
    html = render_block("backorder-eta", "en", product=product(), primary=False)
    data = re.search(r'<script type="application/json" data-backorder-eta-variants="7001">(.*?)</script>', html, re.S)
    variants = json.loads(data.group(1))
    assert variants["8001"]["line"] == "Ships by December 17, 2026"
    assert variants["8002"] == {"status": "in_stock", "line": "In stock", "window": ""}
    assert variants["8003"] == {"status": "", "line": "", "window": ""}


def test_schema_org_offers_carry_backorder_and_the_date() -> None:
    html = render_block("backorder-eta", "en", product=product(), primary=False)
    markup = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    red, blue, green = markup["offers"]
    assert red["availability"] == "https://schema.org/BackOrder" and red["availabilityStarts"] == "2026-12-17"
    assert blue["availability"] == "https://schema.org/InStock" and "availabilityStarts" not in blue
    assert "availability" not in green  # no value written: nothing claimed
    assert red["price"] == 25.0 and red["priceCurrency"] == "EUR" and red["sku"] == "TEE-RED"
    off = render_block("backorder-eta", "en", product=product(), settings={"structured_data": False})
    assert "application/ld+json" not in off


def test_a_variant_without_a_value_hides_the_block() -> None:
    p = product()
    p["selected_or_first_available_variant"] = p["variants"][2]
    html = render_block("backorder-eta", "en", product=p)
    assert re.search(r"data-backorder-eta [^>]*hidden", html)


def test_text_from_the_metafield_is_escaped() -> None:
    p = product()
    p["variants"][0]["metafields"]["$app"]["backorder_eta"]["value"] = {**BACKORDER, "message": "<b>x</b>"}
    html = render_block("backorder-eta", "it", product=p, primary=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_cart_embed_lists_backordered_lines() -> None:
    p = product()
    cart = {"currency": {"iso_code": "EUR"}, "item_count": 2, "items": [
        {"key": "8001:abc", "variant_id": 8001, "variant": p["variants"][0], "product": p},
        {"key": "8002:def", "variant_id": 8002, "variant": p["variants"][1], "product": p}]}
    html = render_block("cart-eta", "it", cart=cart, primary=False)
    items = json.loads(re.search(r"data-backorder-eta-cart>(.*?)</script>", html, re.S).group(1))
    assert items["8001:abc"] == {"variant": "8001", "title": "Organic tee", "line": "Spedizione entro il 17/12/2026"}
    assert items["8002:def"]["line"] == ""  # in stock: nothing to say in the cart
