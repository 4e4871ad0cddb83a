"""The WooCommerce plugin under php-cli: `php -l` on every file, and its hooks run through WordPress's own
hook implementation (wp-includes/plugin.php from Debian's `wordpress` package) with sample product meta.

The harness (plugin_php/) loads plugin.php, formatting.php, kses.php and http.php from WordPress (so
escaping is WordPress's own), small shims for the rest, then the plugin; each scenario prints JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.woocommerce.storefront import meta_json
from connector.domain.model import StorefrontValue
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "plugins" / "woocommerce" / "backorder-connector"
HARNESS = Path(__file__).resolve().parent / "plugin_php" / "scenarios.php"
WORDPRESS = Path(os.environ.get("WORDPRESS_DIR", "/usr/share/wordpress"))
PHP = shutil.which("php")


@pytest.fixture(scope="module", autouse=True)
def php_and_wordpress() -> None:
    need(PHP is not None, "php-cli is not installed (Debian: apt-get install php-cli)")
    found = (WORDPRESS / "wp-includes" / "plugin.php").is_file()
    need(found, f"WordPress is not at {WORDPRESS} (Debian: apt-get install wordpress)")


def run(scenario: str, argument: dict[str, Any] | None = None) -> Any:
    env = {**os.environ, "PLUGIN_DIR": str(PLUGIN), "WORDPRESS_DIR": str(WORDPRESS)}
    command = [PHP, "-d", "display_errors=stderr", "-d", "error_reporting=-1", str(HARNESS), scenario]
    if argument is not None:
        command.append(json.dumps(argument))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr or done.stdout
    assert done.stderr == "", done.stderr  # no notice, warning or deprecation either
    return json.loads(done.stdout)


def written(status: str = "backorder", ships_by: date | None = date(2026, 12, 15), message: str = "") -> str:
    """The meta exactly as the service writes it (adapters/woocommerce/storefront.py)."""
    value = StorefrontValue("SKU", "1", None, status, ships_by, ships_by, ships_by, message)
    return meta_json(value, datetime(2026, 11, 30, 10, tzinfo=UTC))


BACKORDERED = {"meta": written(message="Ships by 15 December"), "stock": 0}


# ---- every file parses ---------------------------------------------------------------------------------


def php_files() -> list[Path]:
    return sorted([*PLUGIN.rglob("*.php"), *HARNESS.parent.glob("*.php")])


@pytest.mark.parametrize("path", php_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_php_lint(path: Path) -> None:
    done = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "No syntax errors" in done.stdout, done.stdout + done.stderr


def test_the_plugin_never_calls_out_while_a_page_renders() -> None:
    """Only WordPress's privacy tools, run by an administrator, call the service (includes/privacy.php,
    from the one function its exporter and eraser share); no page does."""
    outbound = re.compile(
        r"\b(wp_remote_\w+|wp_safe_remote_\w+|curl_\w+|file_get_contents|fopen|fsockopen|stream_socket_client)\s*\("
    )
    for path in PLUGIN.rglob("*.php"):
        if path.name != "privacy.php":
            assert not outbound.search(path.read_text()), f"{path.name} makes a request"
    privacy = (PLUGIN / "includes" / "privacy.php").read_text()
    functions = re.split(r"\nfunction ", privacy)[1:]
    calling = [f.split("(", 1)[0] for f in functions if outbound.search(f)]
    assert calling == ["ask_service"]
    main = (PLUGIN / "backorder-connector.php").read_text()
    hooked = re.findall(r"add_(?:filter|action)\(\s*'([^']+)',\s*__NAMESPACE__ \. '\\\\(\w+)'", main)
    assert {name for name, callback in hooked if callback in ("register_exporter", "register_eraser")} == {
        "wp_privacy_personal_data_exporters", "wp_privacy_personal_data_erasers"}


def test_the_main_file_has_a_plugin_header() -> None:
    head = (PLUGIN / "backorder-connector.php").read_text()[:2000]
    for field in ("Plugin Name: ", "Version: ", "Requires PHP: ", "Text Domain: ", "License: ", "Requires Plugins: "):
        assert field in " ".join(head.split()).replace("* ", ""), field
    assert "=== Backorder Connector ===" in (PLUGIN / "readme.txt").read_text()


# ---- hooks ---------------------------------------------------------------------------------------------


def test_the_plugin_hooks_into_woocommerce_and_loads_its_translations() -> None:
    result = run("hooks")
    assert all(result["hooks"].values()), result["hooks"]
    assert ["load_plugin_textdomain", "backorder-connector", "backorder-connector/languages"] in result["calls"]
    assert ["declare_compatibility", "custom_order_tables", "backorder-connector.php", True] in result["calls"]
    assert ["declare_compatibility", "cart_checkout_blocks", "backorder-connector.php", True] in result["calls"]
    settings = '<a href="https://shop.example.com/wp-admin/admin.php?page=backorder-connector">Settings</a>'
    assert result["action_links"] == [settings, "<a>Deactivate</a>"]


def test_the_meta_the_service_writes_is_what_the_plugin_reads() -> None:
    sample = json.loads(run("meta"))
    service = json.loads(written(message="Ships by 15 December"))
    assert set(sample) == set(service)


# ---- product page and variations ---------------------------------------------------------------------------
# The harness builds stock lines as WooCommerce does: wc_get_stock_html() and its stock.php template print
# WC_Product::get_availability(), whose text and class pass through the plugin's filters.

ETA_LINE = '<p class="stock available-on-backorder backorder-connector-eta">{}</p>'
WC_BACKORDER_LINE = '<p class="stock available-on-backorder">Available on backorder</p>'


def stock_line(product: dict, **extra: Any) -> str:
    """The product page's stock line with the plugin (and checks what WooCommerce alone would show)."""
    result = run("stock_html", {"product": product, **extra})
    return result["html"]


def test_a_backordered_product_says_when_it_ships_instead_of_available_on_backorder() -> None:
    result = run("stock_html", {"product": BACKORDERED})
    assert result["woocommerce"] == WC_BACKORDER_LINE
    assert result["html"] == ETA_LINE.format("Ships by 15 December")


def test_with_backorders_allowed_silently_the_date_still_shows() -> None:
    result = run("stock_html", {"product": {**BACKORDERED, "backorders": "yes"}})
    assert result["woocommerce"] == ""
    assert result["html"] == ETA_LINE.format("Ships by 15 December")


def test_without_a_message_the_plugin_says_ships_by_in_the_site_language_and_date_format() -> None:
    product = {"meta": written(message=""), "stock": 0}
    assert stock_line(product) == ETA_LINE.format("Ships by December 15, 2026")
    italian = {"translations": {"Ships by %s": "Spedito entro il %s"}, "options": {"date_format": "j/n/Y"}}
    assert stock_line(product, **italian) == ETA_LINE.format("Spedito entro il 15/12/2026")


@pytest.mark.parametrize(
    "product",
    [
        {"meta": written("in_stock", None, "In stock"), "stock": 5},
        {"meta": written(), "stock": 5},  # the meta lags: WooCommerce has stock again
        {"meta": written(), "stock": 0, "backorders": "no"},  # WooCommerce does not sell it on backorder
        {"meta": written(ships_by=date(2026, 11, 29)), "stock": 0},  # a promise already past
        {"meta": written("sold_out", None, "Sold out"), "stock": 0},
        {"meta": None, "stock": 0},  # never written
    ],
    ids=["in-stock", "stale-backorder", "no-backorders", "past-date", "sold-out", "no-meta"],
)
def test_nothing_changes_unless_both_the_meta_and_woocommerce_say_backorder(product: dict) -> None:
    result = run("stock_html", {"product": product})
    assert result["html"] == result["woocommerce"]
    assert "backorder-connector" not in result["html"]


def test_today_counts_as_not_past() -> None:
    product = {"meta": written(ships_by=date(2026, 11, 30), message="Ships today"), "stock": 0}
    assert stock_line(product) == ETA_LINE.format("Ships today")


HOSTILE_META = [
    "not json",
    '{"status":"backorder","ships_by":"2026-12-15"',  # truncated
    '["backorder","2026-12-15"]',
    '{"status":"maybe","ships_by":"2026-12-15","message":"x"}',
    '{"status":["backorder"],"ships_by":"2026-12-15","message":"x"}',
    '{"status":"backorder","ships_by":"2026-12-15\\"><script>alert(1)</script>","message":"x"}',
    '{"status":"backorder","ships_by":"2026-02-30","message":"x"}',
    '{"status":"backorder","ships_by":"2026-12-15\\n","message":"x"}',
    '{"status":"backorder","ships_by":20261215,"message":"x"}',
    '{"status":"backorder","message":"x"}',
    'O:8:"stdClass":1:{s:6:"status";s:9:"backorder";}',
    '{"status":"backorder","ships_by":"2026-12-15","message":"' + "x" * 5000 + '"}',
    '{"a":{"b":{"c":{"d":{"e":1}}}},"status":"backorder","ships_by":"2026-12-15"}',
]


@pytest.mark.parametrize("meta", HOSTILE_META, ids=range(len(HOSTILE_META)))
def test_malformed_meta_is_ignored(meta: str) -> None:
    assert stock_line({"meta": meta, "stock": 0}) == WC_BACKORDER_LINE


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ('<script>alert("x")</script>Ships soon', "Ships soon"),
        ('"><img src=x onerror=alert(1)>Ships soon', "&quot;&gt;Ships soon"),
        # WordPress's esc_html leaves an entity as it is: it shows as "&", never as markup
        ("Ships <b>soon</b> &amp; fast\n\t", "Ships soon &amp; fast"),
        ("&lt;script&gt;", "&lt;script&gt;"),
        ("Spedito entro il 15 dicembre — “presto”", "Spedito entro il 15 dicembre — “presto”"),
        ("é" * 400, "é" * 300 + "…"),
    ],
    ids=["script", "attribute-break", "markup-and-entities", "escaped-markup", "italian", "too-long"],
)
def test_hostile_messages_are_plain_text_escaped(message: str, shown: str) -> None:
    line = stock_line({"meta": written(message=message), "stock": 0})
    assert line == ETA_LINE.format(shown), line


@pytest.mark.parametrize(
    "raw",
    [
        b'{"status":"backorder","ships_by":"2026-12-15","message":"\xff\xfe"}',  # not UTF-8
        b'{"status":"backorder","ships_by":"2026-12-15","message":"\\udcff"}',  # a lone surrogate
        b'{"status":"backorder","ships_by":"2026-12-15","message":"x"}\x00',
    ],
    ids=["invalid-utf8", "lone-surrogate", "trailing-nul"],
)
def test_meta_that_is_not_clean_json_text_is_ignored(raw: bytes) -> None:
    assert stock_line({"meta_hex": raw.hex(), "stock": 0}) == WC_BACKORDER_LINE


def test_a_backordered_variation_carries_its_date_in_the_data_woocommerce_shows_on_variation_change() -> None:
    result = run("variation", {"product": BACKORDERED})
    assert result["woocommerce"] == WC_BACKORDER_LINE
    assert result["data"]["availability_html"] == ETA_LINE.format("Ships by 15 December")
    assert result["data"]["backorder_connector_eta"] == {"ships_by": "2026-12-15", "message": "Ships by 15 December"}


def test_a_variation_in_stock_keeps_woocommerce_data_as_it_was() -> None:
    result = run("variation", {"product": {"meta": written("in_stock", None, "In stock"), "stock": 3}})
    assert result["data"] == {"variation_id": 23, "availability_html": '<p class="stock in-stock">3 in stock</p>'}


# ---- cart, checkout and the order ---------------------------------------------------------------------------


def test_the_cart_shows_ships_by_under_a_backordered_item() -> None:
    lines = run("cart", {"product": BACKORDERED, "quantity": 2})
    assert lines == [
        {"key": "Size", "value": "M"},
        {"key": "Ships by", "value": "December 15, 2026", "display": "December 15, 2026"},
    ]


def test_the_cart_asks_woocommerce_whether_the_quantity_in_the_cart_is_backordered() -> None:
    partly = {"meta": written(), "stock": 3}  # three on the shelf
    assert len(run("cart", {"product": partly, "quantity": 3})) == 1
    assert run("cart", {"product": partly, "quantity": 4})[-1]["key"] == "Ships by"


def test_the_cart_label_is_translated_and_escaped() -> None:
    hostile = {"translations": {"Ships by": "<i>Spedito</i> entro"}, "options": {"date_format": "<b>j</b>/n/Y"}}
    lines = run("cart", {"product": BACKORDERED, **hostile})
    day = "&lt;b&gt;15&lt;/b&gt;/12/2026"
    escaped = {"key": "&lt;i&gt;Spedito&lt;/i&gt; entro", "value": day, "display": day}
    assert lines[-1] == escaped


def test_a_backordered_order_line_gets_the_date_woocommerce_emails_show() -> None:
    meta = run("order_line", {"product": BACKORDERED, "quantity": 1})
    assert meta == [["Ships by", "December 15, 2026", True], ["_backorder_connector_ships_by", "2026-12-15", True]]


def test_an_order_line_in_stock_gets_nothing() -> None:
    assert run("order_line", {"product": {"meta": written(), "stock": 4}, "quantity": 2}) == []
    assert run("order_line", {"product": {"meta": "garbage", "stock": 0}, "quantity": 1}) == []


# ---- schema.org ---------------------------------------------------------------------------------------------


def test_the_offer_of_a_backordered_product_says_backorder_until_the_date_with_the_shop_offset() -> None:
    offer = run("offer", {"product": BACKORDERED})
    assert offer["availability"] == "https://schema.org/BackOrder"
    assert offer["availabilityStarts"] == "2026-12-15T00:00:00+01:00"  # Europe/Rome in December
    assert offer["price"] == "12.00"


def test_the_offer_of_a_product_in_stock_is_left_as_woocommerce_made_it() -> None:
    offer = run("offer", {"product": {"meta": written(), "stock": 2}})
    assert offer == {"@type": "Offer", "availability": "http://schema.org/BackOrder", "price": "12.00"}


def test_a_variable_product_offers_the_earliest_date_when_no_variation_is_in_stock() -> None:
    variations = [
        {"meta": written(ships_by=date(2027, 1, 20)), "stock": 0},
        {"meta": written(ships_by=date(2026, 12, 20)), "stock": 0},
        {"meta": written("sold_out", None, "Sold out"), "stock": 0, "backorders": "no"},
    ]
    offer = run("offer", {"product": {"type": "variable", "meta": None}, "variations": variations})
    assert offer["availabilityStarts"] == "2026-12-20T00:00:00+01:00"
    in_stock = [*variations, {"meta": written("in_stock", None, "In stock"), "stock": 9}]
    offer = run("offer", {"product": {"type": "variable", "meta": None}, "variations": in_stock})
    assert "availabilityStarts" not in offer


# ---- settings and uninstall ------------------------------------------------------------------------------------


def test_the_settings_page_links_to_the_connect_page_with_everything_escaped() -> None:
    service = 'https://svc.example.com/a"b<c>'
    result = run("settings_page", {"options": {"backorder_connector_settings": {"service_url": service}}})
    html = result["html"]
    assert result["died"] is None
    assert ["current_user_can", "manage_woocommerce"] in result["calls"]
    assert result["capability"] == "manage_woocommerce"
    assert "<c>" not in html and 'a"b' not in html
    assert 'href="https://svc.example.com/abc/woocommerce/connect?store=https%3A%2F%2Fshop.example.com%2F"' in html
    assert 'name="_wpnonce" value="nonce-for-backorder_connector_settings-options"' in html
    assert 'action="options.php"' in html
    assert ["add_submenu_page", "woocommerce", "Backorder Connector", "Backorder Connector", "manage_woocommerce",
            "backorder-connector"] in result["calls"]


def test_the_settings_page_refuses_users_who_may_not_manage_woocommerce() -> None:
    result = run("settings_page", {"can": False})
    assert result["died"] == "Sorry, you are not allowed to manage these settings."
    assert "<form" not in result["html"]


def test_without_a_service_address_there_is_no_connect_link() -> None:
    result = run("settings_page", {})
    assert "woocommerce/connect" not in result["html"] and 'id="bc-service-url"' in result["html"]


@pytest.mark.parametrize(
    ("typed", "saved", "refused"),
    [
        ("https://backorders.example.com/", "https://backorders.example.com", False),
        ("  https://backorders.example.com/base  ", "https://backorders.example.com/base", False),
        ("http://localhost:8000", "http://localhost:8000", False),
        ("http://backorders.example.com", "https://kept.example.com", True),
        ("javascript:alert(1)", "https://kept.example.com", True),
        ("https://user:pw@backorders.example.com", "https://kept.example.com", True),
        ("https://backorders.example.com/?x=1", "https://kept.example.com", True),
        (["https://backorders.example.com"], "", False),
        ("", "", False),
    ],
)
def test_the_service_address_is_checked_when_saved(typed: Any, saved: str, refused: bool) -> None:
    options = {"backorder_connector_settings": {"service_url": "https://kept.example.com"}}
    result = run("sanitize", {"options": options, "posted": {"service_url": typed, "delete_data": "1"}})
    assert result["saved"] == {"service_url": saved, "delete_data": True}
    assert (["add_settings_error", "backorder_connector_settings", "service_url"] in result["calls"]) is refused


def test_uninstall_removes_the_settings_and_keeps_product_meta_unless_asked() -> None:
    kept = run("uninstall", {"options": {"backorder_connector_settings": {"service_url": "", "delete_data": False}}})
    assert kept["calls"] == [["delete_option", "backorder_connector_settings"]]
    assert "backorder_connector_settings" not in kept["options"]
    wiped = run("uninstall", {"options": {"backorder_connector_settings": {"service_url": "", "delete_data": True}}})
    assert ["delete_post_meta_by_key", "_backorder_connector_eta"] in wiped["calls"]


# ---- translations --------------------------------------------------------------------------------------------


def source_strings() -> set[str]:
    call = re.compile(r"\b(?:__|esc_html__)\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*'([^']*)'\s*\)")
    found: set[str] = set()
    for path in PLUGIN.rglob("*.php"):
        for text, domain in call.findall(path.read_text()):
            assert domain == "backorder-connector", f"{path.name}: {text!r} in text domain {domain!r}"
            found.add(text.replace("\\'", "'"))
    return found


def test_the_template_and_the_italian_catalogue_cover_every_string() -> None:
    import gettext

    languages = PLUGIN / "languages"
    pot = (languages / "backorder-connector.pot").read_text()
    blocks = re.findall(r'msgid ((?:"[^\n]*"\n)+)', pot)
    template = {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)) for block in blocks}
    assert source_strings() == template - {""}
    with (languages / "backorder-connector-it_IT.mo").open("rb") as handle:
        italian = gettext.GNUTranslations(handle)
    assert all(italian.gettext(text) != text or text == "Backorder Connector" for text in source_strings())
    assert italian.gettext("Ships by %s") == "Spedizione entro il %s"


# ---- privacy tools: WordPress's export and erasure reach the service ---------------------------------------


SERVICE_HOOK = {"delivery_url": "https://backorders.example.com/webhooks/woocommerce", "secret": "hook-secret"}


def privacy(tool: str, email: str = "jane@example.com", **given: Any) -> dict[str, Any]:
    return run("privacy", {"tool": tool, "email": email, **given})


def test_the_privacy_tools_are_registered_beside_the_others() -> None:
    for tool in ("export", "erase"):
        result = privacy(tool, page=2)
        assert result["names"] == ["other", "backorder-connector"]
        assert result["friendly"] == "Backorder Connector"
        assert result["http"] == []  # the one request goes with the first page
    assert privacy("erase", page=2)["response"] == {
        "items_removed": False, "items_retained": False, "messages": [], "done": True}


def test_a_shop_without_a_hook_to_the_service_sends_nothing() -> None:
    other = {"delivery_url": "https://crm.example.com/hooks/woo", "secret": "theirs"}
    queried = {"delivery_url": SERVICE_HOOK["delivery_url"] + "?to=crm", "secret": "theirs"}  # not the service's
    for tool in ("export", "erase"):
        result = privacy(tool, webhooks={"3": other, "5": queried})
        assert result["http"] == [] and [c[0] for c in result["calls"]] == ["search_webhooks"]  # nor a query
        assert result["response"]["done"] is True
        assert result["response"].get("data", []) == [] and result["response"].get("messages", []) == []


def test_the_request_names_the_person_their_account_and_orders_and_is_signed_like_a_webhook() -> None:
    import base64
    import hashlib
    import hmac

    result = privacy("erase", "jane@example.com", webhooks={"3": SERVICE_HOOK, "4": SERVICE_HOOK | {}},
                     users={"jane@example.com": 12}, orders=[727, 731], page=1)
    assert set(result["response"]) == {"error"}  # nothing listens at that address
    assert "could not take the request" in result["response"]["error"]
    [sent] = result["http"]  # one request per service address
    assert sent["url"] == SERVICE_HOOK["delivery_url"] and sent["args"]["reject_unsafe_urls"] is True
    headers, body = sent["args"]["headers"], sent["args"]["body"].encode()
    request = json.loads(body)
    assert abs(request.pop("sent_at") - datetime.now(UTC).timestamp()) < 60
    assert request == {"email": "jane@example.com", "customer_id": 12, "order_ids": [727, 731]}
    assert headers["X-WC-Webhook-Topic"] == "privacy.erase_requested"
    assert headers["X-WC-Webhook-Source"] == "https://shop.example.com/"
    expected = base64.b64encode(hmac.new(b"hook-secret", body, hashlib.sha256).digest()).decode()
    assert headers["X-WC-Webhook-Signature"] == expected
    orders_query = next(c for c in result["calls"] if c[0] == "wc_get_orders")[1]
    assert orders_query == {"customer": ["jane@example.com", 12], "limit": 10000, "return": "ids"}


def test_an_address_that_is_not_one_is_refused_before_anything_is_sent() -> None:
    result = privacy("export", "not an address", webhooks={"3": SERVICE_HOOK})
    assert result["response"] == {"error": "Backorder Connector: this is not an email address."}
    assert result["http"] == []


@pytest.fixture
def live_service(app):  # type: ignore[no-untyped-def]
    """The service answering on a port of this machine, as the shop's WordPress reaches it."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="privacy-tools-http", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_wordpress_export_and_erasure_reach_the_service_and_are_honoured(  # type: ignore[no-untyped-def]
    app, store, woo_services, live_service
) -> None:
    from sqlalchemy import select

    from connector.domain.model import Platform
    from connector.storage.tables import ComplianceRequestRow, DeliveryRow, OrderRow
    from tests.integration.app.helpers import sign_in
    from tests.integration.woocommerce.flows import connect, deliver, work
    from tests.woocommerce_support import fixture

    http = app.test_client()
    connect(http, store)
    order = store.add_order(fixture("rest_v3_order_retrieve.json"))  # order 727, john.doe@example.com
    assert deliver(http, store, "order.created", order) == "accepted"
    work(woo_services)
    hook_id = next(iter(store.webhooks))
    # The shop's hook, as WooCommerce keeps it: the service's address (here on this machine) and its secret.
    hook = {"delivery_url": live_service + "/webhooks/woocommerce", "secret": store.webhook_secrets[hook_id]}
    email = order["billing"]["email"]

    exported = privacy("export", email, webhooks={str(hook_id): hook}, orders=[727])
    assert exported["http"][0]["url"] == live_service + "/webhooks/woocommerce/privacy-export"
    items = exported["response"]["data"]
    assert exported["response"]["done"] is True
    assert [(i["group_label"], i["item_id"]) for i in items] == [
        ("Backordered items", "backorder-connector-order-727"),
        ("Store notifications kept by Backorder Connector", "backorder-connector-notification-0")]
    fields = {d["name"]: d["value"] for d in items[0]["data"]}
    assert fields["Order"].endswith("727")
    assert fields["Email"] == email and fields["Items"].startswith("2 × ")
    notification = {d["name"]: d["value"] for d in items[1]["data"]}
    assert notification["Notification"] == "order.created"
    assert json.loads(notification["Content"])["billing"]["email"] == email
    with woo_services.db.session() as s:  # the merchant's Privacy page lists it too
        export = s.scalars(select(ComplianceRequestRow).where(ComplianceRequestRow.kind == "customer_export")).one()
        assert [o["id"] for o in export.export["orders"]] == ["727"]

    # A request signed with another secret is refused, and nothing is stored.
    forged = privacy("erase", email, webhooks={str(hook_id): hook | {"secret": "guessed"}}, orders=[727])
    assert "HTTP 401" in forged["response"]["error"]
    with woo_services.db.session() as s:
        assert s.scalar(select(OrderRow.customer_email)) == email

    erased = privacy("erase", email, webhooks={str(hook_id): hook}, orders=[727])
    assert erased["response"]["items_retained"] is False and len(erased["response"]["messages"]) == 1
    work(woo_services)
    with woo_services.db.session() as s:
        assert s.execute(select(OrderRow.customer_email, OrderRow.customer_name)).one() == (None, "redacted")
        bodies = {row.topic: row.body for row in s.scalars(select(DeliveryRow))}
        assert bodies["order.created"] == b"" and bodies["privacy.erase_requested"] == b""
        assert s.scalar(select(ComplianceRequestRow.export).where(
            ComplianceRequestRow.kind == "customer_export")) is None
        shop_id = woo_services.shops.ref(Platform.WOOCOMMERCE, "shop.example.com").id
    merchant = app.test_client()
    sign_in(merchant, woo_services, shop_id)
    page = merchant.get("/app/privacy").get_data(as_text=True)
    assert "Customer data request" in page and "Customer data erasure" in page and email not in page
