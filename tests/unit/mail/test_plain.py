"""Plain business emails to suppliers, with a CSV attached."""

from __future__ import annotations

import pytest

from connector.mail.compose import KIND_HEADER
from connector.mail.plain import compose_plain, plain_payload
from connector.mail.send import MailPermanentError

SHOP = {"name": "Oak & Ash", "domain": "oak.example", "sender_name": "Oak & Ash", "reply_to": "buy@oak.example"}


def test_a_plain_email_with_a_csv_attachment() -> None:
    payload = plain_payload("supplier_forecast", "orders@acme.example", "Forecast", "Hello Acme,\n\nattached.\n",
                            SHOP, [("forecast.csv", "text/csv", "sku,units\nTEE,4\n")])
    first = compose_plain(payload, idempotency_key="k1", default_from="Connector <noreply@connector.example>")
    again = compose_plain(payload, idempotency_key="k1", default_from="noreply@connector.example")
    assert first["Message-ID"] == again["Message-ID"]  # a retry carries the same id
    assert first["To"] == "orders@acme.example" and first["Reply-To"] == "buy@oak.example"
    assert first["From"] == "Oak & Ash <noreply@connector.example>" and first[KIND_HEADER] == "supplier_forecast"
    assert "Hello Acme" in first.get_body(("plain",)).get_content()
    [csv] = list(first.iter_attachments())
    assert csv.get_content_type() == "text/csv" and csv.get_filename() == "forecast.csv"
    assert csv.get_content().replace("\r\n", "\n") == "sku,units\nTEE,4\n"


@pytest.mark.parametrize("change", [{"to": "not an address"}, {"subject": None, "to": ""},
                                    {"attachments": [{"filename": "x.bin", "content_type": "application/zip",
                                                      "content": "PK"}]}])
def test_a_payload_that_cannot_be_an_email_is_permanent(change: dict) -> None:
    payload = {**plain_payload("dropship_request", "a@b.example", "S", "T", SHOP), **change}
    with pytest.raises(MailPermanentError):
        compose_plain(payload, idempotency_key="k", default_from="noreply@connector.example")
