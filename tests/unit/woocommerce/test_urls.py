import pytest

from adapters.woocommerce.urls import InvalidStoreUrl, shop_key, store_url


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("https://shop.example.com/", "shop.example.com"),
        ("shop.example.com", "shop.example.com"),
        ("  HTTPS://Shop.Example.COM  ", "shop.example.com"),
        ("https://shop.example.com:443/", "shop.example.com"),
        ("http://localhost:8080/", "localhost:8080"),
        ("https://example.com/store/", "example.com/store"),
        ("https://example.com/store?lang=it", "example.com/store"),
        ("https://bücher.example/", "xn--bcher-kva.example"),
    ],
)
def test_shop_key_is_host_and_path_without_scheme(text, key):
    assert shop_key(text) == key


def test_store_url_keeps_the_scheme_and_assumes_https():
    assert store_url("shop.example.com/") == "https://shop.example.com"
    assert store_url("http://localhost:8080/wp/") == "http://localhost:8080/wp"


@pytest.mark.parametrize("text", ["", "   ", "ftp://shop.example.com", "https://", "https://shop:99999/"])
def test_unusable_addresses_are_refused(text):
    with pytest.raises(InvalidStoreUrl):
        shop_key(text)
