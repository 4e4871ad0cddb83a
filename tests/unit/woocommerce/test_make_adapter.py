from adapters.base import StoreClient
from adapters.woocommerce import make_adapter, options_from_config, rest_from_credentials
from adapters.woocommerce.orders import NormaliseOptions
from connector.domain.model import Platform, Shop

CREDENTIALS = {"url": "https://shop.example.com", "consumer_key": "ck_1", "consumer_secret": "cs_1"}


def test_the_adapter_has_every_part():
    adapter = make_adapter({"APP_URL": "https://connector.test"})
    assert adapter.platform is Platform.WOOCOMMERCE
    assert adapter.blueprint is not None and adapter.blueprint.name == "woocommerce"
    assert adapter.upkeep is not None
    client = adapter.client_factory(Shop(Platform.WOOCOMMERCE, "shop.example.com", "Shop"), CREDENTIALS)
    assert isinstance(client, StoreClient)
    assert client.shop == "shop.example.com" and client.refund_via_gateway


def test_settings_from_configuration():
    options = options_from_config(
        {"WOOCOMMERCE_RESELLER_ROLES": "b2b, trade", "WOOCOMMERCE_LOCALE_META_KEYS": ["lang"]}
    )
    assert options.reseller_roles == frozenset({"b2b", "trade"})
    assert options.locale_meta_keys == ("lang",)
    assert options.reseller_meta_keys == NormaliseOptions().reseller_meta_keys
    rest = rest_from_credentials(
        CREDENTIALS, {"WOOCOMMERCE_TIMEOUT": "5", "WOOCOMMERCE_ATTEMPTS": "2", "WOOCOMMERCE_QUERY_STRING_AUTH": "yes"}
    )
    assert (rest.api.timeout, rest.attempts, rest.api.query_string_auth) == (5.0, 2, True)
    adapter = make_adapter({"WOOCOMMERCE_REFUND_VIA_GATEWAY": "0", "WOOCOMMERCE_ETA_NOTE_TO_CUSTOMER": "no"})
    client = adapter.client_factory(Shop(Platform.WOOCOMMERCE, "s", "s"), CREDENTIALS)
    assert client.refund_via_gateway is False and client.eta_note_to_customer is False


def test_credentials_without_the_secret_are_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="consumer_secret"):
        rest_from_credentials({"url": "https://s", "consumer_key": "ck_1"}, {})
