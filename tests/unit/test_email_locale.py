"""Which language a customer's email is written in."""

from connector.backorders.order_actions import email_locale


def test_the_customers_language_when_the_shop_writes_in_it() -> None:
    assert email_locale("it-IT", "en", ("en", "it")) == "it-IT"
    assert email_locale("it", "en", ("en", "it")) == "it"


def test_otherwise_the_shops_language_then_the_first_chosen() -> None:
    assert email_locale("it-IT", "en", ("en",)) == "en"
    assert email_locale("de", "fr", ("it", "en")) == "it"
    assert email_locale(None, None, ()) == "en"
