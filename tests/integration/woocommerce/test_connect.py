import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from adapters.base import AuthRevoked
from adapters.woocommerce.connect import (
    REQUIRED_TOPICS,
    ConnectError,
    authorize_url,
    check_keys,
    ensure_webhooks,
    new_webhook_secret,
    parse_callback,
)
from adapters.woocommerce.rest import WooRest
from tests.fake_woocommerce import FakeWooStore

DELIVERY = "https://app.example.net/webhooks/woocommerce"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store(rsps):
    return FakeWooStore(rsps, "https://shop.example.com", home_url="https://www.Shop.example.com/", currency="eur")


@pytest.fixture
def rest(store):
    return WooRest(store.url, store.key, store.secret, sleep=lambda s: None)


def test_authorize_url_carries_what_wc_auth_needs():
    url = authorize_url(
        "shop.example.com/",
        app_name="Backorder Connector",
        user_id="tok-1",
        return_url="https://app.example.net/woocommerce/return",
        callback_url="https://app.example.net/woocommerce/callback",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "shop.example.com", "/wc-auth/v1/authorize")
    assert parse_qs(parts.query) == {
        "app_name": ["Backorder Connector"],
        "scope": ["read_write"],
        "user_id": ["tok-1"],
        "return_url": ["https://app.example.net/woocommerce/return"],
        "callback_url": ["https://app.example.net/woocommerce/callback"],
    }


def test_authorize_url_wants_an_https_callback_and_a_store_address():
    with pytest.raises(ConnectError, match="https"):
        authorize_url("shop.example.com", app_name="a", user_id="u", return_url="http://x", callback_url="http://x")
    with pytest.raises(ConnectError):
        authorize_url("ftp://shop", app_name="a", user_id="u", return_url="https://x", callback_url="https://x")


GRANT = {
    "key_id": 1,
    "user_id": "tok-1",
    "consumer_key": "ck_1234",
    "consumer_secret": "cs_5678",
    "key_permissions": "read_write",
}


def test_parse_callback_reads_the_posted_keys():
    grant = parse_callback(json.dumps(GRANT).encode())
    assert (grant.key_id, grant.user_id) == (1, "tok-1")
    assert (grant.consumer_key, grant.consumer_secret) == ("ck_1234", "cs_5678")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"key_id=1", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({k: v for k, v in GRANT.items() if k != "consumer_secret"}).encode(), "lacks consumer_secret"),
        (json.dumps(GRANT | {"consumer_key": "nope"}).encode(), "consumer key"),
        (json.dumps(GRANT | {"key_permissions": "read"}).encode(), "granted 'read'"),
        (json.dumps(GRANT | {"key_id": "x"}).encode(), "key_id"),
    ],
)
def test_parse_callback_refuses_what_is_not_a_grant(body, message):
    with pytest.raises(ConnectError, match=message):
        parse_callback(body)


def test_check_keys_learns_the_shop_key_from_the_home_url(rest):
    info = check_keys(rest)
    assert (info.url, info.shop, info.currency, info.locale) == (
        "https://shop.example.com",
        "www.shop.example.com",
        "EUR",
        "en-US",
    )


def test_check_keys_with_wrong_keys_is_auth_revoked(store):
    with pytest.raises(AuthRevoked):
        check_keys(WooRest(store.url, store.key, "cs_wrong", sleep=lambda s: None))


def test_connect_creates_the_four_hooks_with_our_secret(rest, store):
    secret = new_webhook_secret()
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret=secret, app_name="Backorder Connector")
    assert sorted(report.created) == sorted(REQUIRED_TOPICS)
    assert sorted(h["topic"] for h in store.webhooks.values()) == sorted(REQUIRED_TOPICS)
    assert all(h["status"] == "active" and h["delivery_url"] == DELIVERY for h in store.webhooks.values())
    assert set(store.webhook_secrets.values()) == {secret}


def test_running_it_again_changes_nothing(rest, store):
    ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC")
    before = dict(store.webhooks)
    writes = len(store.writes())
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC", connecting=False)
    assert not report.changed and sorted(report.kept) == sorted(REQUIRED_TOPICS)
    assert store.webhooks == before and len(store.writes()) == writes


def test_disabled_hooks_are_recreated_duplicates_removed_and_others_hooks_left_alone(rest, store):
    ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC")
    by_topic = {h["topic"]: h for h in store.webhooks.values()}
    by_topic["order.updated"]["status"] = "disabled"  # after repeated failed deliveries
    dup = store.add_webhook("order.created", DELIVERY, "s1")
    foreign = store.add_webhook("order.updated", "https://crm.example/hook", "theirs")
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC", connecting=False)
    assert report.created == ["order.updated"]
    assert sorted(report.removed) == sorted([by_topic["order.updated"]["id"], dup["id"]])
    ours = [h for h in store.webhooks.values() if h["delivery_url"] == DELIVERY]
    assert sorted(h["topic"] for h in ours) == sorted(REQUIRED_TOPICS)
    assert all(h["status"] == "active" for h in ours)
    assert foreign["id"] in store.webhooks
    new = next(h for h in ours if h["topic"] == "order.updated")
    assert store.webhook_secrets[new["id"]] == "s1"


def test_a_hook_deleted_meanwhile_is_not_an_error(rest, store, rsps):
    ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC")
    hook = next(h for h in store.webhooks.values() if h["topic"] == "order.deleted")
    hook["status"] = "disabled"
    store.lose_answer_to = ("DELETE", f"webhooks/{hook['id']}")  # deleted, answer lost: the retry finds it gone
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC", connecting=False)
    assert report.removed == [hook["id"]] and report.created == ["order.deleted"]
    assert [c for c in store.calls if c == ("DELETE", f"webhooks/{hook['id']}")] == [
        ("DELETE", f"webhooks/{hook['id']}")
    ] * 2


def test_paused_hooks_are_left_to_the_merchant_except_when_reconnecting(rest, store):
    ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC")
    hook = next(h for h in store.webhooks.values() if h["topic"] == "product.updated")
    hook["status"] = "paused"
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret="s1", app_name="BC", connecting=False)
    assert report.paused == ["product.updated"] and hook["status"] == "paused"
    report = ensure_webhooks(rest, delivery_url=DELIVERY, secret="s2", app_name="BC")
    assert report.reactivated == ["product.updated"] and hook["status"] == "active"
    assert set(store.webhook_secrets.values()) == {"s2"}


def test_hooks_need_an_https_delivery_url_except_on_this_machine(rest, store):
    with pytest.raises(ConnectError, match="https"):
        ensure_webhooks(rest, delivery_url="http://app.example.net/webhooks/woocommerce", secret="s", app_name="BC")
    assert store.webhooks == {}
    local = "http://127.0.0.1:8000/webhooks/woocommerce"
    assert len(ensure_webhooks(rest, delivery_url=local, secret="s", app_name="BC").created) == 4
