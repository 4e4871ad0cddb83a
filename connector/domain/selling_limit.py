"""Selling only what we can promise: whether the store should sell one more unit of a SKU on backorder.

Pure: a frozen picture of one SKU in, a decision out. The shop's "longest wait we sell" bounds
the promise (the P90 ship date) of one more unit ordered today; a SKU's optional limit bounds its
units on backorder. Only a SKU the merchant had selling when out of stock is ever stopped, and
only a SKU we stopped is ever resumed: selling the merchant turned off stays off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Verdict(StrEnum):
    STOP = "stop"  # switch the store to not selling it when out of stock
    RESUME = "resume"  # switch back the selling we stopped
    LEAVE = "leave"  # change nothing in the store


class Reason(StrEnum):
    WAIT_TOO_LONG = "wait_too_long"  # one more unit would ship after the longest wait we sell
    LIMIT_REACHED = "limit_reached"  # the SKU's units on backorder reached its limit
    WITHIN_LIMITS = "within_limits"  # one more unit can be promised within both
    MERCHANT_STOPPED = "merchant_stopped"  # the merchant does not sell it when out of stock: not ours to touch
    MERCHANT_RESUMED = "merchant_resumed"  # the merchant turned selling back on while we had it stopped
    NO_PROMISE = "no_promise"  # in stock, untracked or unknown: nothing to limit


@dataclass(frozen=True, slots=True)
class SellingPicture:
    """One SKU as the decision sees it."""

    today: date
    ships_p90: date | None  # the P90 ship date of one more unit ordered today (None: ships from stock)
    promise_is_dated: bool  # the P90 follows a dated arrival (a purchase order), not a lead time from today
    longest_wait_days: int | None  # the shop's setting (None: no longest wait)
    units_on_backorder: int  # units of the SKU waiting now
    unit_limit: int | None  # the SKU's limit of units on backorder (None: no limit)
    store_sells: bool  # the store sells it when out of stock right now
    stopped_by_us: bool  # we switched it off and have not switched it back
    merchant_overrode: bool = False  # while stopped by us, the merchant switched selling back on


@dataclass(frozen=True, slots=True)
class SellingDecision:
    verdict: Verdict
    reason: Reason
    resume_on: date | None = None  # when selling is expected to resume, if a date can be said

    @property
    def stopped(self) -> bool:
        """Whether, after this decision, the SKU is (still) not sold on backorder because of a limit."""
        return self.reason in (Reason.WAIT_TOO_LONG, Reason.LIMIT_REACHED)


def over_wait(p: SellingPicture) -> bool:
    if p.longest_wait_days is None or p.ships_p90 is None:
        return False
    return p.ships_p90 > p.today + timedelta(days=p.longest_wait_days)


def over_limit(p: SellingPicture) -> bool:
    return p.unit_limit is not None and p.units_on_backorder >= p.unit_limit


def _limit_reason(p: SellingPicture) -> Reason | None:
    if over_limit(p):
        return Reason.LIMIT_REACHED
    if over_wait(p):
        return Reason.WAIT_TOO_LONG
    return None


def expected_resume(p: SellingPicture, reason: Reason) -> date | None:
    """The day one more unit's promise comes within the longest wait, when its date is fixed.

    A promise counted from today (a lead time) moves with the calendar: it comes closer only when
    supply is recorded (a purchase order, a restock), so no date is claimed for it. The same holds
    for a reached unit limit, which frees up as waiting orders ship or are cancelled."""
    if reason is not Reason.WAIT_TOO_LONG or not p.promise_is_dated or p.ships_p90 is None:
        return None
    assert p.longest_wait_days is not None  # nosec B101  # narrows the type: WAIT_TOO_LONG needs a longest wait
    return p.ships_p90 - timedelta(days=p.longest_wait_days)


def decide(p: SellingPicture) -> SellingDecision:
    """Stop, resume or leave the store's selling of one SKU when out of stock."""
    reason = _limit_reason(p)
    if p.stopped_by_us:
        if reason is None:
            # back within limits: give selling back (the merchant already took it back if they overrode us)
            if p.merchant_overrode:
                return SellingDecision(Verdict.LEAVE, Reason.WITHIN_LIMITS)
            return SellingDecision(Verdict.RESUME, Reason.WITHIN_LIMITS)
        if p.merchant_overrode:
            return SellingDecision(Verdict.LEAVE, Reason.MERCHANT_RESUMED)
        return SellingDecision(Verdict.LEAVE, reason, expected_resume(p, reason))
    if not p.store_sells:
        return SellingDecision(Verdict.LEAVE, Reason.MERCHANT_STOPPED)
    if reason is None:
        no_promise = p.ships_p90 is None and not over_limit(p)
        return SellingDecision(Verdict.LEAVE, Reason.NO_PROMISE if no_promise else Reason.WITHIN_LIMITS)
    return SellingDecision(Verdict.STOP, reason, expected_resume(p, reason))
