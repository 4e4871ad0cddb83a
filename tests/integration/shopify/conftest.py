from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from adapters.shopify.graphql import GraphQLClient
from adapters.shopify.throttle import CostThrottle
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SHOP

from .app_harness import harness  # noqa: F401  (the whole service with Shopify mocked)

TOKEN = "shpat_test_token"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def admin(rsps: responses.RequestsMock) -> ShopifyAdminMock:
    mock = ShopifyAdminMock(rsps, TEST_SHOP)
    mock.expected_token = TOKEN
    return mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def gql(sleeps: list[float]) -> GraphQLClient:
    return GraphQLClient(TEST_SHOP, TOKEN, "2026-10", throttle=CostThrottle(), sleep=sleeps.append)


@pytest.fixture
def store(admin: ShopifyAdminMock) -> FakeShopifyStore:
    return FakeShopifyStore(admin)
