import base64
import traceback

import pytest
import requests
import responses

from adapters.base import AuthRevoked, StoreError, UserError
from adapters.woocommerce.rest import WooRest
from tests.woocommerce_support import fixture

API = "https://shop.example.com/wp-json/wc/v3/"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def rest(sleeps):
    return WooRest("https://shop.example.com/", "ck_abc", "cs_def", sleep=sleeps.append, attempts=4, max_wait=30)


@responses.activate
def test_https_stores_get_basic_auth_and_json(rest):
    responses.get(API + "orders/727", json=fixture("rest_v3_order_retrieve.json"))
    assert rest.get("orders/727")["id"] == 727
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"ck_abc:cs_def").decode()
    assert sent.headers["Accept"] == "application/json"


@responses.activate
def test_plain_http_stores_get_oauth1_signed_queries(sleeps):
    rest = WooRest("http://localhost:8080", "ck_abc", "cs_def", sleep=sleeps.append)
    responses.get("http://localhost:8080/wp-json/wc/v3/orders", json=[])
    rest.get("orders", per_page=1)
    url = responses.calls[0].request.url
    assert "oauth_signature=" in url and "oauth_consumer_key=ck_abc" in url and "per_page=1" in url
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_5xx_and_timeouts_are_retried_with_back_off(rest, sleeps):
    url = API + "orders/727"
    responses.get(url, status=503, body="busy")
    responses.get(url, body=requests.ConnectTimeout("slow"))
    responses.get(url, status=502, body="<html>bad gateway</html>")
    responses.get(url, json={"id": 727})
    assert rest.get("orders/727") == {"id": 727}
    assert len(responses.calls) == 4
    assert len(sleeps) == 3 and all(0 < s <= 30 for s in sleeps)


@responses.activate
def test_429_waits_at_least_retry_after(rest, sleeps):
    responses.get(API + "products", status=429, headers={"Retry-After": "7"}, json={"code": "too_many"})
    responses.get(API + "products", json=[])
    assert rest.get("products") == []
    assert sleeps[0] >= 7


@responses.activate
def test_a_store_that_stays_down_gives_a_retryable_error(rest, sleeps):
    responses.get(API + "orders/727", status=500, json={"code": "internal", "message": "Fatal error"})
    with pytest.raises(StoreError) as caught:
        rest.get("orders/727")
    assert caught.value.retryable and caught.value.status == 500
    assert "Fatal error" in str(caught.value) and "4 attempts" in str(caught.value)
    assert len(responses.calls) == 4


@responses.activate
def test_401_means_the_keys_were_revoked_and_is_not_retried(rest):
    body = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot view this resource.",
        "data": {"status": 401},
    }
    responses.get(API + "orders/727", status=401, json=body)
    with pytest.raises(AuthRevoked) as caught:
        rest.get("orders/727")
    assert not caught.value.retryable and caught.value.status == 401
    assert len(responses.calls) == 1


@responses.activate
def test_400_carries_the_store_message(rest):
    body = {"code": "rest_invalid_param", "message": "Invalid parameter(s): status", "data": {"status": 400}}
    responses.put(API + "orders/727", status=400, json=body)
    with pytest.raises(UserError, match=r"PUT orders/727: Invalid parameter\(s\): status") as caught:
        rest.put("orders/727", {"status": "nope"})
    assert caught.value.details["code"] == "rest_invalid_param" and len(responses.calls) == 1


@responses.activate
def test_a_refused_gateway_refund_is_final_although_it_comes_as_500(rest):
    body = {"code": "woocommerce_rest_cannot_create_order_refund", "message": "Refund failed."}
    responses.post(API + "orders/727/refunds", status=500, json=body)
    with pytest.raises(UserError, match="Refund failed"):
        rest.post("orders/727/refunds", {"amount": "1.00"})
    assert len(responses.calls) == 1


@responses.activate
def test_a_200_that_is_not_json_is_a_retryable_store_error(rest):
    responses.get(API + "orders/727", body="<html>Just a moment...</html>", content_type="text/html")
    with pytest.raises(StoreError, match="without JSON") as caught:
        rest.get("orders/727")
    assert caught.value.retryable


@responses.activate
def test_pages_follow_x_wp_totalpages(rest):
    for page in (1, 2, 3):
        responses.get(
            API + "orders",
            json=[{"id": page}],
            headers={"X-WP-TotalPages": "3"},
            match=[responses.matchers.query_param_matcher({"page": str(page), "per_page": "1", "status": "any"})],
        )
    assert [o["id"] for o in rest.pages("orders", {"status": "any"}, per_page=1)] == [1, 2, 3]
    assert len(responses.calls) == 3


@responses.activate
def test_pages_without_the_header_stop_at_a_short_page(rest):
    responses.get(API + "products", json=[{"id": 1}, {"id": 2}])
    responses.get(API + "products", json=[{"id": 3}])
    assert [p["id"] for p in rest.pages("products", per_page=2)] == [1, 2, 3]


@responses.activate
def test_a_post_whose_answer_was_lost_is_not_repeated_blindly(rest, sleeps):
    responses.post(API + "orders/727/refunds", body=requests.ReadTimeout("no answer"))
    with pytest.raises(StoreError, match="after 1 attempt") as caught:
        rest.post("orders/727/refunds", {"amount": "1.00"})
    assert caught.value.retryable and len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_a_post_that_failed_with_500_is_not_repeated_here(rest):
    responses.post(API + "orders/727/notes", status=500, json={"code": "x", "message": "Fatal"})
    with pytest.raises(StoreError) as caught:
        rest.post("orders/727/notes", {"note": "hi"})
    assert caught.value.retryable and len(responses.calls) == 1


@responses.activate
def test_a_post_the_store_refused_before_acting_is_repeated(rest, sleeps):
    url = API + "orders/727/notes"
    responses.post(url, body=requests.ConnectTimeout("no connection"))
    responses.post(url, status=429, json={"code": "rate"})
    responses.post(url, status=503, body="maintenance")
    responses.post(url, status=201, json={"id": 1})
    assert rest.post("orders/727/notes", {"note": "hi"}) == {"id": 1}
    assert len(responses.calls) == 4 and len(sleeps) == 3


@responses.activate
def test_errors_never_carry_the_keys(sleeps):
    rest = WooRest("https://shop.example.com", "ck_abc", "cs_def", sleep=sleeps.append, query_string_auth=True)
    url = "https://shop.example.com/wp-json/wc/v3/orders/1?consumer_key=ck_abc&consumer_secret=cs_def"
    responses.get(API + "orders/1", body=requests.ConnectionError(f"Max retries exceeded with url: {url}"))
    with pytest.raises(StoreError) as caught:
        rest.get("orders/1")
    printed = "".join(traceback.format_exception(caught.value))  # what a log would show
    assert "cs_def" not in printed and "ck_abc" not in printed
    assert "consumer_secret=***" in str(caught.value)
