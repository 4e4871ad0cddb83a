"""The selling-limit decision with plain values: stop, resume or leave one SKU's selling on backorder."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from connector.domain.selling_limit import Reason, SellingPicture, Verdict, decide

TODAY = date(2026, 12, 1)
SELLING = SellingPicture(
    today=TODAY,
    ships_p90=date(2026, 12, 20),  # 19 days away
    promise_is_dated=False,
    longest_wait_days=30,
    units_on_backorder=3,
    unit_limit=None,
    store_sells=True,
    stopped_by_us=False,
)


def test_a_promise_within_the_longest_wait_is_left_alone() -> None:
    d = decide(SELLING)
    assert (d.verdict, d.reason, d.stopped) == (Verdict.LEAVE, Reason.WITHIN_LIMITS, False)


def test_the_longest_wait_itself_still_sells_one_day_more_stops() -> None:
    assert decide(replace(SELLING, ships_p90=date(2026, 12, 31))).verdict is Verdict.LEAVE
    d = decide(replace(SELLING, ships_p90=date(2027, 1, 1)))
    assert (d.verdict, d.reason, d.resume_on) == (Verdict.STOP, Reason.WAIT_TOO_LONG, None)


def test_a_dated_promise_says_when_selling_resumes() -> None:
    d = decide(replace(SELLING, ships_p90=date(2027, 2, 14), promise_is_dated=True))
    assert d.verdict is Verdict.STOP and d.resume_on == date(2027, 1, 15)  # 30 days before the P90


def test_no_longest_wait_never_stops_for_the_wait() -> None:
    d = decide(replace(SELLING, longest_wait_days=None, ships_p90=date(2027, 6, 1)))
    assert d.verdict is Verdict.LEAVE


def test_the_unit_limit_stops_when_reached_and_not_before() -> None:
    assert decide(replace(SELLING, unit_limit=4)).verdict is Verdict.LEAVE
    d = decide(replace(SELLING, unit_limit=3))
    assert (d.verdict, d.reason) == (Verdict.STOP, Reason.LIMIT_REACHED)
    assert d.resume_on is None


def test_in_stock_is_not_limited_by_the_wait() -> None:
    d = decide(replace(SELLING, ships_p90=None, units_on_backorder=0))
    assert (d.verdict, d.reason) == (Verdict.LEAVE, Reason.NO_PROMISE)


def test_a_sku_the_merchant_does_not_sell_on_backorder_is_never_touched() -> None:
    merchants = replace(SELLING, store_sells=False)
    assert decide(replace(merchants, ships_p90=date(2027, 6, 1))).reason is Reason.MERCHANT_STOPPED
    assert decide(merchants).verdict is Verdict.LEAVE  # within limits: still not switched on
    assert decide(replace(merchants, unit_limit=1)).verdict is Verdict.LEAVE


def test_what_we_stopped_stays_stopped_while_over_and_resumes_within() -> None:
    stopped = replace(SELLING, store_sells=False, stopped_by_us=True, ships_p90=date(2027, 3, 1))
    d = decide(stopped)
    assert (d.verdict, d.reason, d.stopped) == (Verdict.LEAVE, Reason.WAIT_TOO_LONG, True)
    d = decide(replace(stopped, ships_p90=date(2026, 12, 24)))  # a purchase order brought it closer
    assert (d.verdict, d.reason) == (Verdict.RESUME, Reason.WITHIN_LIMITS)
    d = decide(replace(stopped, ships_p90=None))  # restocked
    assert d.verdict is Verdict.RESUME


def test_a_merchant_who_switched_selling_back_on_is_not_overruled() -> None:
    overridden = replace(SELLING, stopped_by_us=True, merchant_overrode=True, ships_p90=date(2027, 3, 1))
    d = decide(overridden)
    assert (d.verdict, d.reason, d.stopped) == (Verdict.LEAVE, Reason.MERCHANT_RESUMED, False)
    d = decide(replace(overridden, ships_p90=date(2026, 12, 10)))
    assert (d.verdict, d.reason) == (Verdict.LEAVE, Reason.WITHIN_LIMITS)  # nothing to give back


def test_the_limit_reason_wins_when_both_apply() -> None:
    d = decide(replace(SELLING, unit_limit=2, ships_p90=date(2027, 3, 1)))
    assert (d.verdict, d.reason) == (Verdict.STOP, Reason.LIMIT_REACHED)
