"""What the customer has been charged for an order so far, and what is still to be charged when it ships.

Pure: the order's payment picture in, two amounts out (or None when no honest sentence can be said:
the order is not paid yet, or was refunded or voided). Every email about a waiting order and the
customer's page say it in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from connector.domain.model import PaymentStatus

ZERO = Decimal(0)
CENT = Decimal("0.01")
HELD = (PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_PAID)


@dataclass(frozen=True, slots=True)
class Charges:
    now: Decimal  # taken from the customer so far (net of refunds)
    later: Decimal  # to be taken when the waiting items ship


def charges(
    status: str,
    total: Decimal | None,
    line_amounts: Iterable[Decimal],
    captured: Decimal,
    refunded: Decimal,
    captures_later: bool,
) -> Charges | None:
    """The two amounts; `captures_later`: the shop holds an authorization and captures on shipping."""
    whole = total if total is not None else sum(line_amounts, ZERO)
    if captures_later and status in HELD:
        later = max(whole - captured - refunded, ZERO)
        return Charges(captured.quantize(CENT), later.quantize(CENT))
    if status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_PAID) or status in HELD:
        return Charges(max(whole - refunded, ZERO).quantize(CENT), ZERO.quantize(CENT))
    return None  # pending, refunded, voided: nothing honest to say about charges
