from connector.domain.model import Platform
from connector.storage.tables import ShopRow
from tests.integration.woocommerce.conftest import APP_URL
from tests.integration.woocommerce.flows import connect, csrf, grant, start_connect

HOOK_URL = APP_URL + "/webhooks/woocommerce"


def test_connect_redirects_to_the_store_authorize_page(app):
    target, query = start_connect(app.test_client(), "https://shop.example.com/")
    assert (target.scheme, target.netloc, target.path) == ("https", "shop.example.com", "/wc-auth/v1/authorize")
    assert query["app_name"] == "Backorder Connector" and query["scope"] == "read_write"
    assert query["callback_url"] == APP_URL + "/woocommerce/callback"
    assert query["return_url"] == APP_URL + "/woocommerce/return"
    assert len(query["user_id"]) > 20  # a signed token, not a guessable number


def test_connect_form_refuses_a_bad_address_and_a_missing_csrf_token(app):
    http = app.test_client()
    token = csrf(http.get("/woocommerce/connect").data)
    bad = http.post("/woocommerce/connect", data={"store_url": "ftp://nope", "csrf_token": token})
    assert bad.status_code == 400 and b"http(s) URL" in bad.data
    forged = http.post("/woocommerce/connect", data={"store_url": "shop.example.com"})
    assert forged.status_code == 400 and b"expired" in forged.data


def test_callback_checks_the_keys_makes_the_hooks_and_stores_the_shop_encrypted(app, store, woo_services):
    http = app.test_client()
    query = connect(http, store)
    ref = woo_services.shops.ref(Platform.WOOCOMMERCE, "shop.example.com")
    assert ref is not None and ref.status == "active"
    assert ("GET", "system_status") in store.calls
    stored = woo_services.shops.credentials(Platform.WOOCOMMERCE, "shop.example.com")
    assert stored.pop("attempt")  # the connect attempt that bound the keys (the return page checks it)
    assert stored == {
        "url": "https://shop.example.com",
        "consumer_key": "ck_live_1",
        "consumer_secret": "cs_live_1",
    }
    with woo_services.db.session() as s:
        row = s.get(ShopRow, ref.id)
        assert b"cs_live_1" not in row.credentials and row.webhook_secret
    secret = woo_services.shops.webhook_secret(Platform.WOOCOMMERCE, "shop.example.com").decode()
    hooks = sorted((h["topic"], h["delivery_url"], h["status"]) for h in store.webhooks.values())
    assert hooks == sorted(
        (t, HOOK_URL, "active") for t in ("order.created", "order.updated", "order.deleted", "product.updated")
    )
    assert set(store.webhook_secrets.values()) == {secret}
    back = http.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert back.status_code == 200 and b"Store connected" in back.data and b"shop.example.com" in back.data


def test_reconnecting_keeps_one_set_of_hooks_and_the_secret(app, store, woo_services):
    http = app.test_client()
    connect(http, store)
    first = woo_services.shops.webhook_secret(Platform.WOOCOMMERCE, "shop.example.com")
    connect(http, store)
    assert len(store.webhooks) == 4
    assert woo_services.shops.webhook_secret(Platform.WOOCOMMERCE, "shop.example.com") == first


def test_a_callback_with_keys_the_store_refuses_connects_nothing(app, store, woo_services):
    http = app.test_client()
    _, query = start_connect(http)
    answer = http.post(
        "/woocommerce/callback",
        data=grant(store, query["user_id"], consumer_secret="cs_wrong"),
        content_type="application/json",
    )
    assert answer.status_code == 502 and "could not connect" in answer.get_json()["error"]
    assert woo_services.shops.ref(Platform.WOOCOMMERCE, "shop.example.com") is None
    assert store.webhooks == {}


def test_a_callback_without_our_token_is_refused_before_calling_any_store(app, store):
    http = app.test_client()
    answer = http.post("/woocommerce/callback", data=grant(store, "42"), content_type="application/json")
    assert answer.status_code == 400 and store.calls == []
    answer = http.post("/woocommerce/callback", data=b"consumer_key=ck_1", content_type="application/json")
    assert answer.status_code == 400


def test_the_return_page_when_the_merchant_declined(app):
    http = app.test_client()
    _, query = start_connect(http)
    page = http.get("/woocommerce/return", query_string={"success": "0", "user_id": query["user_id"]})
    assert page.status_code == 200 and b"did not approve" in page.data


def test_the_store_home_url_names_the_shop(app, rsps, woo_services):
    from tests.fake_woocommerce import FakeWooStore

    store = FakeWooStore(rsps, "https://shop2.example.com", home_url="https://www.shop2.example.com/")
    http = app.test_client()
    _, query = start_connect(http, "shop2.example.com")
    assert (
        http.post(
            "/woocommerce/callback", data=grant(store, query["user_id"]), content_type="application/json"
        ).status_code
        == 200
    )
    assert woo_services.shops.ref(Platform.WOOCOMMERCE, "www.shop2.example.com") is not None
    back = http.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert b"www.shop2.example.com" in back.data
    assert http.get("/app").status_code == 200  # back from wp-admin, the merchant is signed in


def test_pasted_keys_are_checked_then_connect(app, store, woo_services):
    http = app.test_client()
    token = csrf(http.get("/woocommerce/connect").data)
    wrong = http.post(
        "/woocommerce/keys",
        data={
            "store_url": "shop.example.com",
            "consumer_key": "ck_live_1",
            "consumer_secret": "cs_nope",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 400 and b"could not connect" in wrong.data
    assert woo_services.shops.ref(Platform.WOOCOMMERCE, "shop.example.com") is None
    ok = http.post(
        "/woocommerce/keys",
        data={
            "store_url": "shop.example.com",
            "consumer_key": "ck_live_1",
            "consumer_secret": "cs_live_1",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 200 and b"Store connected" in ok.data
    assert len(store.webhooks) == 4
    assert b'href="/app"' in ok.data  # the merchant who pasted the keys is signed in to this shop's app
    dashboard = http.get("/app")
    assert dashboard.status_code == 200 and b"shop.example.com" in dashboard.data
