from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from connector.mail.links import (
    RefundOffer,
    RefundTokenExpired,
    RefundTokenInvalid,
    make_refund_token,
    read_refund_token,
)

SECRET = "test-secret-key"
OFFER = RefundOffer(shop="bottega.myshopify.com", order_id="5001", line_ids=("11", "12"), offer_id="offer-7")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_round_trip() -> None:
    token = make_refund_token(SECRET, OFFER, now=NOW)
    assert read_refund_token(SECRET, token, timedelta(days=14), now=NOW + timedelta(days=13)) == OFFER


def test_token_is_url_safe() -> None:
    token = make_refund_token(SECRET, OFFER)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_expired_token() -> None:
    token = make_refund_token(SECRET, OFFER, now=NOW)
    with pytest.raises(RefundTokenExpired) as caught:
        read_refund_token(SECRET, token, timedelta(days=14), now=NOW + timedelta(days=14, seconds=1))
    assert caught.value.issued_at == NOW


def test_real_clock_max_age_in_seconds() -> None:
    token = make_refund_token(SECRET, OFFER)
    assert read_refund_token(SECRET, token, 60) == OFFER


@pytest.mark.parametrize("position", [5, 20, -3])
def test_tampered_token(position: int) -> None:
    token = make_refund_token(SECRET, OFFER, now=NOW)
    index = position % len(token)
    changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    with pytest.raises(RefundTokenInvalid):
        read_refund_token(SECRET, changed, timedelta(days=14), now=NOW)


def test_other_secret_is_refused() -> None:
    token = make_refund_token("another-secret", OFFER, now=NOW)
    with pytest.raises(RefundTokenInvalid):
        read_refund_token(SECRET, token, timedelta(days=14), now=NOW)


def test_a_token_signed_for_another_purpose_is_refused() -> None:
    other = URLSafeTimedSerializer(SECRET, salt="password-reset").dumps({"s": "x", "o": "1", "l": ["1"], "f": "o"})
    with pytest.raises(RefundTokenInvalid):
        read_refund_token(SECRET, other, 3600)


def test_garbage_is_refused() -> None:
    for token in ("", "abc", "a.b.c"):
        with pytest.raises(RefundTokenInvalid):
            read_refund_token(SECRET, token, 3600)


def test_signed_payload_of_the_wrong_shape_is_refused() -> None:
    token = URLSafeTimedSerializer(SECRET, salt="backorder-connector.refund-offer.v1").dumps({"s": "x"})
    with pytest.raises(RefundTokenInvalid, match="not a refund offer"):
        read_refund_token(SECRET, token, 3600)


def test_secret_rotation() -> None:
    old_token = make_refund_token("old-secret", OFFER, now=NOW)
    rotated = ["old-secret", "new-secret"]
    assert read_refund_token(rotated, old_token, 3600, now=NOW) == OFFER
    new_token = make_refund_token(rotated, OFFER, now=NOW)
    assert read_refund_token("new-secret", new_token, 3600, now=NOW) == OFFER


def test_offer_needs_its_parts() -> None:
    with pytest.raises(ValueError):
        RefundOffer(shop="s", order_id="1", line_ids=(), offer_id="o")
    with pytest.raises(ValueError):
        RefundOffer(shop="", order_id="1", line_ids=("1",), offer_id="o")
    with pytest.raises(ValueError):
        make_refund_token("", OFFER)
