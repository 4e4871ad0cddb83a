"""Supplemental feed rows (pure): ids, availability, dates with the shop's offset, the one-year limit."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from connector.domain.google_feed import availability_date, feed_row, feed_tsv
from connector.domain.model import StorefrontValue

TODAY = date(2026, 11, 30)


def value(sku: str, status: str, ships_by: date | None = None) -> StorefrontValue:
    return StorefrontValue(sku, "7001", "8001", status, ships_by, ships_by, ships_by, "")


def test_dates_carry_the_shops_offset_of_that_day() -> None:
    ny = ZoneInfo("America/New_York")
    assert availability_date(date(2026, 12, 25), ny) == "2026-12-25T00:00-0500"
    assert availability_date(date(2027, 7, 4), ny) == "2027-07-04T00:00-0400"  # daylight saving time
    assert availability_date(date(2026, 12, 25), ZoneInfo("UTC")) == "2026-12-25T00:00+0000"


def test_backorders_in_stock_untracked_sold_out_and_too_far() -> None:
    utc = ZoneInfo("UTC")
    assert feed_row(value("A", "backorder", date(2026, 12, 10)), TODAY, utc).availability == "backorder"
    assert feed_row(value("B", "in_stock"), TODAY, utc).availability == "in_stock"
    assert feed_row(value("C", "untracked"), TODAY, utc).availability == "in_stock"
    assert feed_row(value("D", "sold_out"), TODAY, utc).availability == "out_of_stock"
    far = feed_row(value("E", "backorder", date(2028, 1, 1)), TODAY, utc)
    assert (far.availability, far.availability_date) == ("out_of_stock", "")  # Google takes a year at most


def test_ids_follow_the_primary_feed() -> None:
    v = value("A", "in_stock")
    utc = ZoneInfo("UTC")
    assert feed_row(v, TODAY, utc, "shopify_us").id == "shopify_US_7001_8001"
    assert feed_row(v, TODAY, utc, "gla").id == "gla_8001"
    assert feed_row(v, TODAY, utc, "variant").id == "8001"
    text = feed_tsv([value("B\tx", "in_stock"), v], TODAY, utc)
    assert text.splitlines() == ["id\tavailability\tavailability_date", "A\tin_stock\t", "B x\tin_stock\t"]
