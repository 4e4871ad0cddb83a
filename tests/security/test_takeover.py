"""Proof of control before identity: for each path that binds a store to a shop or signs a browser in,
a stranger gets nothing — no credentials overwritten, no webhook secret sent to them, no session.

The victim's shop is connected first through the real pages (wc-auth approval by the victim's
browser); the attacker then tries each path from another browser, with a store server of their own.
"""

from __future__ import annotations

import json
import uuid

import pytest

from adapters.woocommerce.verify import signature
from adapters.woocommerce.web import CONNECT_FAILED
from connector.domain.model import Platform
from tests.fake_woocommerce import FakeWooStore
from tests.integration.woocommerce.flows import connect, csrf, grant, start_connect

VICTIM = "victim.example.com"
WOO = Platform.WOOCOMMERCE


@pytest.fixture
def victim_store(rsps) -> FakeWooStore:
    return FakeWooStore(rsps, f"https://{VICTIM}", key="ck_victim", secret="cs_victim")


@pytest.fixture
def victim(app, victim_store, woo_services):
    """The victim's browser, signed in to the victim's freshly connected shop."""
    http = app.test_client()
    query = connect(http, victim_store, VICTIM)
    back = http.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert back.status_code == 200 and b'href="/app"' in back.data
    assert http.get("/app").status_code == 200
    return http


def snapshot(services, domain: str = VICTIM) -> tuple:
    ref = services.shops.ref(WOO, domain)
    return ref, services.shops.credentials(WOO, domain), services.shops.webhook_secret(WOO, domain, fresh=True)


def paste(http, typed: str, key: str, secret: str):
    token = csrf(http.get("/woocommerce/connect").data)
    return http.post(
        "/woocommerce/keys",
        data={"store_url": typed, "consumer_key": key, "consumer_secret": secret, "csrf_token": token},
    )


def signed_in(http) -> bool:
    return http.get("/app").status_code == 200


def forged_delivery(secret: bytes, domain: str = VICTIM) -> tuple[bytes, dict]:
    body = json.dumps({"id": 991, "status": "processing", "line_items": []}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"https://{domain}/",
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-Signature": signature(secret, body),
        "X-WC-Webhook-ID": "1",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }


def assert_forgeries_rejected(app, attacker_store: FakeWooStore) -> None:
    """Webhooks signed with any secret the attacker could have learned (what their server was sent,
    or one they chose) are refused for the victim's shop."""
    http = app.test_client()
    learnable = [s.encode() for s in attacker_store.webhook_secrets.values()] + [b"attacker-chosen"]
    for secret in learnable:
        body, headers = forged_delivery(secret)
        assert http.post("/webhooks/woocommerce", data=body, headers=headers).status_code == 401


# ---- pasted keys --------------------------------------------------------------------------------------------


def test_pasted_keys_for_a_server_claiming_the_victims_home_url_get_nothing(app, rsps, victim, woo_services):
    """The reported attack: the attacker's server answers system_status with the victim's home_url."""
    before = snapshot(woo_services)
    attacker_store = FakeWooStore(
        rsps, "https://attacker.example.net", key="ck_att", secret="cs_att", home_url=f"https://{VICTIM}/"
    )
    attacker = app.test_client()
    answer = paste(attacker, "attacker.example.net", "ck_att", "cs_att")
    assert answer.status_code == 400 and CONNECT_FAILED.encode() in answer.data
    assert snapshot(woo_services) == before  # credentials, secret, status untouched
    assert attacker_store.webhooks == {} and attacker_store.webhook_secrets == {}  # nothing sent there
    assert not [c for c in attacker_store.calls if c[0] != "GET"]
    assert not signed_in(attacker)
    assert signed_in(victim)  # the victim's session is untouched
    assert woo_services.shops.ref(WOO, "attacker.example.net") is None
    assert_forgeries_rejected(app, attacker_store)
    # the victim's own webhooks still verify
    body, headers = forged_delivery(before[2])
    assert app.test_client().post("/webhooks/woocommerce", data=body, headers=headers).status_code == 200


def test_the_attack_through_the_key_callback_gets_nothing_either(app, rsps, victim, woo_services):
    before = snapshot(woo_services)
    attacker_store = FakeWooStore(
        rsps, "https://attacker.example.net", key="ck_att", secret="cs_att", home_url=f"https://{VICTIM}/"
    )
    attacker = app.test_client()
    _, query = start_connect(attacker, "attacker.example.net")
    answer = attacker.post(
        "/woocommerce/callback", data=grant(attacker_store, query["user_id"]), content_type="application/json"
    )
    assert answer.status_code == 502 and answer.get_json()["error"] == CONNECT_FAILED
    back = attacker.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert back.status_code == 502 and b'href="/app"' not in back.data
    assert snapshot(woo_services) == before
    assert attacker_store.webhook_secrets == {}
    assert not signed_in(attacker) and signed_in(victim)
    assert_forgeries_rejected(app, attacker_store)


def test_keys_that_do_not_work_at_the_victims_store_get_nothing(app, victim, victim_store, woo_services):
    before = snapshot(woo_services)
    attacker = app.test_client()
    answer = paste(attacker, VICTIM, "ck_att", "cs_att")
    assert answer.status_code == 400 and CONNECT_FAILED.encode() in answer.data
    assert snapshot(woo_services) == before and not signed_in(attacker)
    assert set(victim_store.webhook_secrets.values()) == {before[2].decode()}


def test_a_sub_domain_or_another_path_is_another_store(app, rsps, victim, woo_services):
    before = snapshot(woo_services)
    for url, home in (
        ("https://shop.victim.example.com", f"https://{VICTIM}/"),
        (f"https://{VICTIM}:8443", f"https://{VICTIM}/"),
        ("https://victim.example.com.attacker.net", f"https://{VICTIM}/"),
    ):
        attacker_store = FakeWooStore(rsps, url, key="ck_att", secret="cs_att", home_url=home)
        answer = paste(app.test_client(), url, "ck_att", "cs_att")
        assert answer.status_code == 400, url
        assert attacker_store.webhook_secrets == {}
    assert snapshot(woo_services) == before


# ---- re-connecting an existing shop -------------------------------------------------------------------------


@pytest.fixture
def www_victim(app, rsps, woo_services):
    """A shop whose home URL is www.: connected from https://www.victim.example.com by its merchant."""
    store = FakeWooStore(rsps, "https://www.victim.example.com", key="ck_v", secret="cs_v")
    http = app.test_client()
    assert paste(http, "www.victim.example.com", "ck_v", "cs_v").status_code == 200
    return http, store


def test_a_known_shop_is_not_re_bound_from_another_address_by_a_stranger(app, rsps, www_victim, woo_services):
    """The apex answers with working keys of its own and the www. home URL (allowed for a new shop):
    an active shop is re-bound only from the store we know, so the stranger gets nothing."""
    victim_http, _ = www_victim
    before = snapshot(woo_services, "www.victim.example.com")
    apex = FakeWooStore(rsps, f"https://{VICTIM}", key="ck_att", secret="cs_att",
                        home_url="https://www.victim.example.com/")
    stranger = app.test_client()
    answer = paste(stranger, VICTIM, "ck_att", "cs_att")
    assert answer.status_code == 400 and CONNECT_FAILED.encode() in answer.data
    assert snapshot(woo_services, "www.victim.example.com") == before
    assert apex.webhook_secrets == {} and not signed_in(stranger) and signed_in(victim_http)
    assert_forgeries_rejected(app, apex)


def test_its_signed_in_merchant_may_re_bind_it_and_gets_a_new_secret(app, rsps, www_victim, woo_services):
    victim_http, _ = www_victim
    _, _, old_secret = snapshot(woo_services, "www.victim.example.com")
    apex = FakeWooStore(rsps, f"https://{VICTIM}", key="ck_new", secret="cs_new",
                        home_url="https://www.victim.example.com/")
    assert paste(victim_http, VICTIM, "ck_new", "cs_new").status_code == 200
    _, credentials, new_secret = snapshot(woo_services, "www.victim.example.com")
    assert credentials["url"] == f"https://{VICTIM}" and new_secret != old_secret
    assert old_secret.decode() not in apex.webhook_secrets.values()  # the old secret went only to its store


def test_the_known_store_re_connects_and_keeps_its_secret(app, www_victim, woo_services):
    _, store = www_victim
    _, _, secret = snapshot(woo_services, "www.victim.example.com")
    other_browser = app.test_client()
    assert paste(other_browser, "www.victim.example.com", "ck_v", "cs_v").status_code == 200
    assert snapshot(woo_services, "www.victim.example.com")[2] == secret
    assert signed_in(other_browser)  # working admin keys of the very store: proof of control


# ---- the return page ---------------------------------------------------------------------------------------


def test_a_token_minted_by_a_stranger_for_a_connected_shop_signs_nobody_in(app, victim):
    stranger = app.test_client()
    _, query = start_connect(stranger, VICTIM)  # anyone can get a signed token naming any store
    back = stranger.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert b'href="/app"' not in back.data and not signed_in(stranger)


def test_the_victims_token_in_another_browser_signs_nobody_in(app, victim_store, woo_services):
    merchant = app.test_client()
    query = connect(merchant, victim_store, VICTIM)
    stranger = app.test_client()  # e.g. read the return URL from the store's logs or a shared screen
    back = stranger.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert back.status_code == 403 and not signed_in(stranger)
    mine = merchant.get("/woocommerce/return", query_string={"success": "1", "user_id": query["user_id"]})
    assert mine.status_code == 200 and signed_in(merchant)


def test_a_callback_with_a_strangers_token_for_the_victims_store_and_foreign_keys_changes_nothing(
    app, victim, victim_store, woo_services
):
    before = snapshot(woo_services)
    stranger = app.test_client()
    _, query = start_connect(stranger, VICTIM)
    answer = stranger.post(
        "/woocommerce/callback",
        data=json.dumps({"key_id": 1, "user_id": query["user_id"], "consumer_key": "ck_att",
                         "consumer_secret": "cs_att", "key_permissions": "read_write"}),
        content_type="application/json",
    )
    assert answer.status_code == 502 and snapshot(woo_services) == before
    assert not signed_in(stranger)


# ---- sign-in links and Shopify session tokens ---------------------------------------------------------------


def test_a_forged_or_tampered_sign_in_link_signs_nobody_in(app, victim, woo_services):
    from itsdangerous import URLSafeTimedSerializer

    from connector.web.auth import SIGN_IN_SALT, make_sign_in_token

    ref = woo_services.shops.ref(WOO, VICTIM)
    forged = URLSafeTimedSerializer("not-our-secret", salt=SIGN_IN_SALT).dumps(
        {"shop": ref.id, "platform": "woocommerce", "domain": VICTIM})
    other_salt = URLSafeTimedSerializer("test-secret-key", salt="woocommerce-connect").dumps(
        {"shop": ref.id, "platform": "woocommerce", "domain": VICTIM})
    genuine = make_sign_in_token("test-secret-key", ref.id, "woocommerce", VICTIM)
    for token in (forged, other_salt, genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")):
        stranger = app.test_client()
        assert stranger.get(f"/app/sign-in/{token}").status_code == 403
        assert not signed_in(stranger)


def test_a_session_token_for_another_app_signs_nobody_in(app, victim):
    import time

    import jwt

    now = int(time.time())
    claims = {"iss": "https://x.myshopify.com/admin", "dest": "https://x.myshopify.com", "aud": "someone-else",
              "exp": now + 60, "nbf": now - 5, "sub": "1"}
    token = jwt.encode(claims, "a-guessed-secret-of-a-proper-length-32+", algorithm="HS256")
    stranger = app.test_client()
    assert stranger.get("/app", headers={"Authorization": f"Bearer {token}"}).status_code in (302, 401)
    assert not signed_in(stranger)


# ---- Shopify install, callback and launch ----------------------------------------------------------------------


def test_shopify_a_stale_launch_url_goes_through_oauth_and_signs_nobody_in(harness):
    import time

    from tests.integration.shopify.app_harness import TOKEN, signed_query
    from tests.shopify_webhooks import TEST_SHOP

    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    stranger = h.app.test_client()  # found a launch URL from an hour ago (a log, the history)
    an_hour_ago = str(int(time.time()) - 3600)
    old = stranger.get("/shopify/install?" + signed_query({"shop": TEST_SHOP, "timestamp": an_hour_ago}))
    assert old.status_code == 302 and "/admin/oauth/authorize" in old.headers["Location"]
    assert stranger.get("/app").status_code != 200
    fresh = h.app.test_client().get(
        "/shopify/install?" + signed_query({"shop": TEST_SHOP, "timestamp": str(int(time.time()))}))
    assert fresh.headers["Location"].endswith("/app")  # a fresh launch from the admin still opens the app


def test_shopify_a_signed_callback_in_a_browser_that_did_not_start_the_install_signs_nobody_in(harness):
    import time

    from tests.integration.shopify.app_harness import signed_query
    from tests.shopify_webhooks import TEST_SHOP

    h = harness
    h.install()
    stranger = h.app.test_client()
    answer = stranger.get("/shopify/callback?" + signed_query(
        {"code": "stolen", "shop": TEST_SHOP, "state": "guessed", "timestamp": str(int(time.time()))}))
    assert answer.status_code == 400 and stranger.get("/app").status_code != 200
