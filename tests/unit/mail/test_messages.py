from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from types import MappingProxyType

import pytest

from connector.domain.model import Platform, Shop
from connector.mail.messages import (
    Branding,
    EtaEarlier,
    EtaLater,
    MailLine,
    MessageKind,
    OnItsWay,
)
from connector.mail.payload import spec_from_payload
from connector.mail.send import MailPermanentError
from connector.mail.serialize import spec_from_dict, spec_to_dict
from tests.mail_samples import LINES, PROMISED, sample_spec


@pytest.mark.parametrize("kind", list(MessageKind))
def test_specs_survive_json(kind: MessageKind) -> None:
    spec = sample_spec(kind, headers={"X-Test": "1"})
    stored = json.loads(json.dumps(spec_to_dict(spec)))
    assert stored["kind"] == kind.value
    assert spec_from_dict(stored) == spec


def test_malformed_stored_spec() -> None:
    data = spec_to_dict(sample_spec())
    with pytest.raises(ValueError, match="unknown fields"):
        spec_from_dict({**data, "content": {**data["content"], "surprise": 1}})
    with pytest.raises(ValueError):
        spec_from_dict({**data, "kind": "birthday_card"})
    with pytest.raises(ValueError):
        spec_from_dict({k: v for k, v in data.items() if k != "to"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"to": "not an address"}, "not an email address"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"currency": "euro"}, "ISO 4217"),
        ({"headers": {"X-Bad": "a\r\nBcc: victim@example.com"}}, "line break"),
    ],
)
def test_spec_validation(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_spec(**overrides)


def test_content_validation() -> None:
    with pytest.raises(ValueError, match="later date"):
        EtaLater("#1", LINES, previous_on=PROMISED, promised_on=PROMISED)
    with pytest.raises(ValueError, match="earlier date"):
        EtaEarlier("#1", LINES, previous_on=PROMISED, promised_on=date(2026, 12, 11))
    with pytest.raises(ValueError, match="at least one line"):
        OnItsWay("#1", ())
    with pytest.raises(ValueError, match="quantity"):
        MailLine("Cup", 0)
    with pytest.raises(ValueError, match="http"):
        OnItsWay("#1", LINES, tracking_url="javascript:alert(1)")


def test_branding_validation() -> None:
    with pytest.raises(ValueError, match="hex colour"):
        Branding(shop_name="S", accent_color="red;background:url(https://evil.example)")
    with pytest.raises(ValueError, match="http"):
        Branding(shop_name="S", logo_url="data:image/png;base64,AAAA")
    with pytest.raises(ValueError, match="empty"):
        Branding(shop_name="  ")
    assert Branding(shop_name="S").from_name == "S"


def test_branding_from_shop_settings_keeps_the_good_and_drops_the_bad() -> None:
    shop = Shop(
        platform=Platform.SHOPIFY,
        domain="bottega.myshopify.com",
        name="Bottega",
        settings=MappingProxyType(
            {"brand_color": "#123abc", "logo_url": "ftp://nope", "sender_name": "Bottega Team", "reply_to": "bad"}
        ),
    )
    brand = Branding.from_shop(shop)
    assert brand == Branding(shop_name="Bottega", accent_color="#123abc", sender_name="Bottega Team")


def test_branding_defaults_from_empty_settings() -> None:
    shop = Shop(platform=Platform.SANDBOX, domain="demo.local", name="")
    brand = Branding.from_shop(shop)
    assert brand.shop_name == "demo.local"
    assert brand.accent_color == "#1f6f5c"
    assert brand.logo_url is None


def _lifecycle_payload(**extra: object) -> dict:
    """The flat shape connector.backorders.lifecycle.email_payload produces."""
    return {
        "template": "backorder_confirmation",
        "to": "anna@example.com",
        "locale": "it-IT",
        "shop": {
            "name": "Bottega",
            "domain": "bottega.myshopify.com",
            "timezone": "Europe/Rome",
            "currency": "EUR",
            "sender_name": "Bottega",
            "reply_to": "",
            "brand_color": "#1f6feb",
            "logo_url": "",
        },
        "order": {"id": "5001", "name": "#1001", "customer_name": "Anna"},
        "lines": [
            {"line_id": "11", "sku": "CUP", "title": "Cup", "quantity": 2, "promised_on": "2026-12-10"},
        ],
        "promised_on": "2026-12-10",
        **extra,
    }


def test_lifecycle_payload_becomes_a_spec() -> None:
    spec = spec_from_payload(_lifecycle_payload())
    assert spec.kind is MessageKind.BACKORDER_CONFIRMATION
    assert spec.locale == "it-IT"
    assert spec.recipient_name == "Anna"
    assert spec.branding.accent_color == "#1f6feb"
    assert spec.content.order_name == "#1001"
    assert spec.content.lines == (MailLine("Cup", 2, sku="CUP", promised_on=date(2026, 12, 10)),)


def test_confirmation_without_a_date_is_allowed() -> None:
    spec = spec_from_payload(_lifecycle_payload(promised_on=None))
    assert spec.content.promised_on is None


def test_lifecycle_payload_eta_change_uses_its_field_names() -> None:
    spec = spec_from_payload(
        _lifecycle_payload(template="eta_later", promised_on="2026-12-20", previous_promised_on="2026-12-10")
    )
    assert spec.content == EtaLater(
        "#1001", spec.content.lines, previous_on=date(2026, 12, 10), promised_on=date(2026, 12, 20)
    )


def test_lifecycle_payload_partial_shipment() -> None:
    payload = _lifecycle_payload(
        template="on_its_way",
        still_waiting=[{"line_id": "12", "sku": "JUG", "title": "Jug", "quantity": 1, "promised_on": "2026-12-20"}],
    )
    spec = spec_from_payload(payload)
    assert spec.content.still_waiting == (MailLine("Jug", 1, sku="JUG", promised_on=date(2026, 12, 20)),)


def test_merchant_payload_has_no_customer_greeting() -> None:
    payload = _lifecycle_payload(
        template="authorization_expiring",
        to="owner@bottega.example",
        amount="52.00",
        expires_at="2026-12-01T10:00:00+00:00",
        planned_action="capture",
    )
    spec = spec_from_payload(payload)
    assert spec.recipient_name is None
    assert spec.content.customer_name == "Anna"
    assert spec.content.amount == Decimal("52.00")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        _lifecycle_payload(template="unknown"),
        _lifecycle_payload(template="eta_later", promised_on=None, previous_promised_on="2026-12-10"),
        _lifecycle_payload(template="delay_refund_offer", refund_amount="ten euros"),
        _lifecycle_payload(to="nobody"),
        _lifecycle_payload(lines=[]),
        _lifecycle_payload(lines="Cup"),
        {**_lifecycle_payload(), "shop": {"name": "x", "timezone": "Nowhere/Else", "currency": "EUR"}},
    ],
)
def test_unusable_payload_is_a_permanent_error(payload: dict) -> None:
    with pytest.raises(MailPermanentError):
        spec_from_payload(payload)


def test_stored_spec_payload_is_read_too() -> None:
    spec = sample_spec(MessageKind.REFUND_CONFIRMATION)
    assert spec_from_payload(spec_to_dict(spec)) == spec
