"""The security tests run the service as the WooCommerce integration tests do (throw-away SQLite, the
stores' REST APIs simulated behind `responses`): the same fixtures."""

from tests.integration.shopify.app_harness import harness  # noqa: F401,E402  (fixture)
from tests.integration.woocommerce.conftest import (  # noqa: F401  (fixtures)
    app,
    mails,
    rsps,
    store,
    woo_clock,
    woo_config,
    woo_services,
)
