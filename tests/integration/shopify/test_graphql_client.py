"""The transport: token, pinned version, throttling, retries and error mapping."""

from __future__ import annotations

import pytest
import requests
import responses

from adapters.base import AuthRevoked, StoreError, UserError
from adapters.shopify.graphql import GraphQLClient, TransientStoreError
from adapters.shopify.throttle import CostThrottle
from tests.shopify_schema import Raw, ShopifyAdminMock
from tests.shopify_webhooks import TEST_SHOP

from .conftest import TOKEN

TAGS_OK = {"tagsAdd": {"userErrors": []}}
VARS = {"id": "gid://shopify/Order/1", "tags": ["backorder"]}


def throttled(available: float, requested: float = 10) -> Raw:
    return Raw(200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                     "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                             "throttleStatus": {"maximumAvailable": 2000.0,
                                                                "currentlyAvailable": available,
                                                                "restoreRate": 100.0}}}})


def test_sends_token_to_the_pinned_version(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    admin.on("TagsAdd", TAGS_OK)
    gql.mutate("TagsAdd", VARS, "tagsAdd")
    (call,) = admin.calls
    assert call.headers["X-Shopify-Access-Token"] == TOKEN
    assert admin.url == "https://backorder-test.myshopify.com/admin/api/2026-10/graphql.json"
    assert call.variables == VARS


def test_each_call_is_its_own_request_from_one_prepared_once(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    """The request is prepared once per client and copied per call: each call still sends its own
    body, length and JSON type, and the headers of the first are not changed by the second."""
    admin.on("TagsAdd", TAGS_OK)
    gql.mutate("TagsAdd", VARS, "tagsAdd")
    gql.mutate("TagsAdd", {**VARS, "tags": ["backorder", "a much longer tag than the first call's"]}, "tagsAdd")
    first, second = admin.calls
    assert first.variables == VARS and second.variables["tags"][1].startswith("a much longer")
    for call in (first, second):
        assert call.headers["Content-Type"] == "application/json"
        assert call.headers["X-Shopify-Access-Token"] == TOKEN
    assert int(second.headers["Content-Length"]) > int(first.headers["Content-Length"])


def test_variables_json_cannot_carry_are_refused_without_a_call(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    admin.on("TagsAdd", TAGS_OK)
    with pytest.raises(StoreError, match="not JSON") as refused:
        gql.mutate("TagsAdd", {**VARS, "weight": float("nan")}, "tagsAdd")
    assert refused.value.retryable is False and admin.calls == []


def test_429_is_retried_after_retry_after(admin: ShopifyAdminMock, gql: GraphQLClient, sleeps: list[float]) -> None:
    admin.on("TagsAdd", Raw(429, {"errors": "Throttled"}, {"Retry-After": "2.0"}), TAGS_OK)
    gql.mutate("TagsAdd", VARS, "tagsAdd")
    assert admin.operations == ["TagsAdd", "TagsAdd"] and sleeps == [2.0]


def test_5xx_retried_with_growing_backoff_then_gives_up_retryable(admin: ShopifyAdminMock, sleeps: list[float]) -> None:
    admin.on("TagsAdd", Raw(503, "unavailable"))
    client = GraphQLClient(TEST_SHOP, TOKEN, throttle=CostThrottle(), sleep=sleeps.append, max_attempts=4)
    with pytest.raises(StoreError) as info:
        client.mutate("TagsAdd", VARS, "tagsAdd")
    assert info.value.retryable and info.value.status == 503
    assert len(admin.calls) == 4 and len(sleeps) == 3 and sleeps == sorted(sleeps) and sleeps[0] > 0


def test_throttled_error_waits_for_the_bucket_to_refill(admin: ShopifyAdminMock, sleeps: list[float]) -> None:
    frozen = CostThrottle(clock=lambda: 50.0)
    client = GraphQLClient(TEST_SHOP, TOKEN, throttle=frozen, sleep=sleeps.append)
    admin.on("TagsAdd", throttled(available=5, requested=205), TAGS_OK)
    client.mutate("TagsAdd", VARS, "tagsAdd")
    assert sleeps == [pytest.approx(2.0)]  # (205 - 5) points at 100 points per second


def test_cost_throttle_slows_down_before_the_bucket_runs_dry(rsps: responses.RequestsMock) -> None:
    clock = [100.0]
    throttle = CostThrottle(clock=lambda: clock[0])
    throttle.record("Big", {"requestedQueryCost": 500, "throttleStatus": {
        "maximumAvailable": 1000, "currentlyAvailable": 300, "restoreRate": 50}})
    assert throttle.delay_for("Big") == pytest.approx(4.0)
    clock[0] += 3.0
    assert throttle.delay_for("Big") == pytest.approx(1.0)
    clock[0] += 10.0
    assert throttle.delay_for("Big") == 0.0
    assert throttle.delay_for("Unknown") == 0.0  # 10 points: there is room


def test_connection_errors_are_retried(admin: ShopifyAdminMock, rsps: responses.RequestsMock,
                                       gql: GraphQLClient) -> None:
    admin.on("TagsAdd", TAGS_OK)
    rsps.replace(responses.POST, admin.url, body=requests.ConnectionError("reset"))
    with pytest.raises(TransientStoreError):
        gql.mutate("TagsAdd", VARS, "tagsAdd")
    assert len(rsps.calls) == 5


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_auth_revoked_without_retry(admin: ShopifyAdminMock, gql: GraphQLClient, status: int) -> None:
    admin.on("TagsAdd", Raw(status, {"errors": "[API] Invalid API key or access token"}))
    with pytest.raises(AuthRevoked):
        gql.mutate("TagsAdd", VARS, "tagsAdd")
    assert len(admin.calls) == 1


def test_a_document_of_two_mutations_answers_both_and_reports_the_user_errors_of_either(
        admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    held = {"fulfillmentHold": {"id": "gid://shopify/FulfillmentHold/1", "handle": "h"}, "userErrors": []}
    refused = {"order": None, "userErrors": [{"field": ["input", "note"], "message": "Note is too long"}]}
    admin.on("OrderBackorderHoldAndDate", {"fulfillmentOrderHold": held, "orderUpdate": {"order": {"id": "o"},
                                                                                        "userErrors": []}},
             {"fulfillmentOrderHold": held, "orderUpdate": refused})
    variables = {"fulfillmentOrder": "gid://shopify/FulfillmentOrder/1",
                 "fulfillmentHold": {"reason": "INVENTORY_OUT_OF_STOCK", "handle": "h"},
                 "order": {"id": "gid://shopify/Order/1", "note": "x"}}
    both = gql.mutate_all("OrderBackorderHoldAndDate", variables, ("fulfillmentOrderHold", "orderUpdate"))
    assert both["fulfillmentOrderHold"]["fulfillmentHold"]["handle"] == "h" and both["orderUpdate"]["order"]
    with pytest.raises(UserError, match=r"OrderBackorderHoldAndDate: input.note: Note is too long") as info:
        gql.mutate_all("OrderBackorderHoldAndDate", variables, ("fulfillmentOrderHold", "orderUpdate"))
    assert info.value.details == refused["userErrors"]


def test_user_errors_become_a_clear_user_error(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    admin.on("TagsAdd", {"tagsAdd": {"userErrors": [{"field": ["tags"], "message": "Tags is too long"}]}})
    with pytest.raises(UserError, match=r"TagsAdd: tags: Tags is too long") as info:
        gql.mutate("TagsAdd", VARS, "tagsAdd")
    assert info.value.details == [{"field": ["tags"], "message": "Tags is too long"}]
    assert not info.value.retryable and len(admin.calls) == 1


def test_access_denied_and_other_graphql_errors(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    admin.on("TagsAdd", Raw(200, {"errors": [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]}),
             Raw(200, {"errors": [{"message": "Field 'x' doesn't exist"}]}))
    with pytest.raises(AuthRevoked, match="Access denied"):
        gql.mutate("TagsAdd", VARS, "tagsAdd")
    with pytest.raises(StoreError, match="doesn't exist") as info:
        gql.mutate("TagsAdd", VARS, "tagsAdd")
    assert not info.value.retryable


def test_no_token_is_auth_revoked() -> None:
    with pytest.raises(AuthRevoked):
        GraphQLClient(TEST_SHOP, "")


def test_the_mock_refuses_documents_that_do_not_validate(admin: ShopifyAdminMock) -> None:
    bad = {"query": "mutation TagsAdd($id: ID!) { tagsAdd(id: $id) { userErrors { message } } }",
           "variables": {"id": "gid://shopify/Order/1"}}
    with pytest.raises(AssertionError, match="does not validate"):
        requests.post(admin.url, json=bad, headers={"X-Shopify-Access-Token": TOKEN})


def test_the_mock_refuses_variables_of_the_wrong_type(admin: ShopifyAdminMock, gql: GraphQLClient) -> None:
    admin.on("TagsAdd", TAGS_OK)
    with pytest.raises(AssertionError, match="do not fit the schema"):
        gql.query("TagsAdd", {"id": "gid://shopify/Order/1", "tags": [{"not": "a string"}]})


def test_the_environments_proxy_and_ca_bundle_are_read_once_and_still_used(
    admin: ShopifyAdminMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests reads proxies and CA bundles from the environment on every call unless told not to;
    the client reads them once, for its shop's address, and sends every call with them."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = requests.Session()
    sent: list[dict] = []
    original = session.send

    def send(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        sent.append({"proxies": kwargs.get("proxies"), "verify": kwargs.get("verify")})
        return original(request, **kwargs)

    session.send = send  # type: ignore[method-assign]
    client = GraphQLClient(TEST_SHOP, TOKEN, session=session, throttle=CostThrottle())
    admin.on("TagsAdd", TAGS_OK, TAGS_OK)
    client.mutate("TagsAdd", VARS, "tagsAdd")
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.internal:3128")  # read once: later changes are not seen
    client.mutate("TagsAdd", VARS, "tagsAdd")
    assert session.trust_env is False
    assert [s["proxies"].get("https") for s in sent] == ["http://proxy.internal:3128"] * 2
    assert [s["verify"] for s in sent] == ["/etc/ssl/certs/ca-certificates.crt"] * 2
