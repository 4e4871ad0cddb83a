"""Signed, expiring tokens for the one-click refund offer.

The delay email carries two links — take the refund, or keep the order — that hold one token
naming the shop, the order, the waiting lines and the offer. The token is signed with the
app's secret (itsdangerous, with a salt of its own so no other signed value can stand in for
it) and stamped with the time it was made; `read_refund_token` refuses it once `max_age` has
passed, or if anything in it was changed.

The token proves who may choose, not that they have: mail scanners open links by themselves,
so the page a link leads to must ask for a click (a POST) before refunding anything, and the
offer id makes acting on it twice harmless.

Secret rotation: pass a list of secrets, oldest first; tokens are signed with the last and
accepted with any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

SALT = "backorder-connector.refund-offer.v1"

Secret = str | bytes | Sequence[str | bytes]


class RefundTokenError(ValueError):
    """The token cannot be used."""


class RefundTokenExpired(RefundTokenError):
    """The token was genuine but the offer has expired."""

    def __init__(self, message: str, *, issued_at: datetime | None) -> None:
        super().__init__(message)
        self.issued_at = issued_at


class RefundTokenInvalid(RefundTokenError):
    """The token was not made by us, was altered, or is malformed."""


@dataclass(frozen=True, slots=True)
class RefundOffer:
    shop: str
    order_id: str
    line_ids: tuple[str, ...]
    offer_id: str

    def __post_init__(self) -> None:
        for name in ("shop", "order_id", "offer_id"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"refund offer needs a {name}")
        if not self.line_ids or not all(isinstance(li, str) and li for li in self.line_ids):
            raise ValueError("refund offer needs at least one line id")

    def to_payload(self) -> dict[str, Any]:
        return {"s": self.shop, "o": self.order_id, "l": list(self.line_ids), "f": self.offer_id}

    @classmethod
    def from_payload(cls, payload: Any) -> RefundOffer:
        if not isinstance(payload, dict) or set(payload) != {"s", "o", "l", "f"} or not isinstance(payload["l"], list):
            raise RefundTokenInvalid("the refund token's content is not a refund offer")
        try:
            return cls(shop=payload["s"], order_id=payload["o"], line_ids=tuple(payload["l"]), offer_id=payload["f"])
        except ValueError as exc:
            raise RefundTokenInvalid(f"the refund token's content is not a refund offer: {exc}") from exc


class _StampedSigner(TimestampSigner):
    """A `TimestampSigner` whose clock reads `stamp` when given: links signed and read as of a moment
    (the service's clock, which tests and the sandbox move), one class for every moment."""

    def __init__(self, *args: Any, stamp: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stamp = stamp

    def get_timestamp(self) -> int:
        return super().get_timestamp() if self.stamp is None else self.stamp


def _serializer(secret: Secret, now: datetime | None, salt: str = SALT) -> URLSafeTimedSerializer:
    keys = [secret] if isinstance(secret, str | bytes) else list(secret)
    if not keys or not all(keys):
        raise ValueError("a non-empty secret is required to sign refund links")
    stamp = None if now is None else int(now.timestamp())
    return URLSafeTimedSerializer(keys, salt=salt, signer=_StampedSigner, signer_kwargs={"stamp": stamp})


def make_refund_token(secret: Secret, payload: RefundOffer, *, now: datetime | None = None) -> str:
    """A URL-safe token for `payload`, stamped with `now` (default: the current time)."""
    return _serializer(secret, now).dumps(payload.to_payload())


def read_refund_token(
    secret: Secret, token: str, max_age: timedelta | int, *, now: datetime | None = None
) -> RefundOffer:
    """The offer in `token`; `RefundTokenExpired` when older than `max_age`, `RefundTokenInvalid` when forged."""
    seconds = int(max_age.total_seconds()) if isinstance(max_age, timedelta) else int(max_age)
    try:
        payload = _serializer(secret, now).loads(token, max_age=seconds)
    except SignatureExpired as exc:
        raise RefundTokenExpired("the refund offer has expired", issued_at=exc.date_signed) from exc
    except BadSignature as exc:
        raise RefundTokenInvalid("the refund link is not valid (altered or not ours)") from exc
    return RefundOffer.from_payload(payload)


# --- the customer's "Your backorder" page (issue 16) --------------------------------------------

ORDER_SALT = "backorder-connector.order-page.v1"
ORDER_LINK_MAX_AGE = timedelta(days=180)  # the page itself stops answering once the order is done


@dataclass(frozen=True, slots=True)
class OrderPageClaim:
    """What an order-page link names: one order of one shop. Signed, so none of it can be changed."""

    platform: str
    shop: str
    order_id: str

    def to_payload(self) -> dict[str, Any]:
        return {"p": self.platform, "s": self.shop, "o": self.order_id}

    @classmethod
    def from_payload(cls, payload: Any) -> OrderPageClaim:
        if not isinstance(payload, dict) or set(payload) != {"p", "s", "o"}:
            raise RefundTokenInvalid("the link's content is not an order page")
        if not all(isinstance(payload[k], str) and payload[k] for k in ("p", "s", "o")):
            raise RefundTokenInvalid("the link's content is not an order page")
        return cls(payload["p"], payload["s"], payload["o"])


def _order_serializer(secret: Secret, now: datetime | None) -> URLSafeTimedSerializer:
    return _serializer(secret, now, ORDER_SALT)


def make_order_token(secret: Secret, claim: OrderPageClaim, *, now: datetime | None = None) -> str:
    """A URL-safe token for the customer's page of one order (its own salt: no refund token stands in)."""
    return _order_serializer(secret, now).dumps(claim.to_payload())


def read_order_token(
    secret: Secret, token: str, max_age: timedelta = ORDER_LINK_MAX_AGE, *, now: datetime | None = None
) -> OrderPageClaim:
    """The order a token names; `RefundTokenExpired` when older than `max_age`, `RefundTokenInvalid` when forged."""
    try:
        payload = _order_serializer(secret, now).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise RefundTokenExpired("the order link has expired", issued_at=exc.date_signed) from exc
    except BadSignature as exc:
        raise RefundTokenInvalid("the order link is not valid (altered or not ours)") from exc
    return OrderPageClaim.from_payload(payload)


def order_page_url(secret: Secret, app_url: str, claim: OrderPageClaim, *, now: datetime | None = None) -> str:
    return f"{app_url.rstrip('/')}/backorder/{make_order_token(secret, claim, now=now)}"
