"""Reading merchant CSV files: headers, line numbers, blank lines, byte-order marks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.supply.csv_rows import CsvImportError, parse_bool, parse_date, parse_decimal, read_rows, write_rows


def test_rows_keep_their_line_numbers_and_skip_blank_lines() -> None:
    text = "\ufeffSKU, Cost\nA,1\n\n ,  \nB , 2\n"
    assert read_rows(text, ("sku", "cost")) == [(2, {"sku": "A", "cost": "1"}), (5, {"sku": "B", "cost": "2"})]


def test_quoted_values_with_commas_and_line_breaks_count_from_their_last_line() -> None:
    text = 'sku,note\n"A","one, two"\n"B","three\nfour"\nC,x\n'
    rows = read_rows(text, ("sku",), ("note",))
    assert [(n, r["sku"]) for n, r in rows] == [(2, "A"), (4, "B"), (5, "C")]


def test_header_problems_are_line_one() -> None:
    with pytest.raises(CsvImportError) as caught:
        read_rows("sku,price,colour\n", ("sku", "cost"), ("lead_time_days",))
    assert caught.value.errors == [
        (1, "missing column(s): cost"),
        (1, "unknown column(s): price, colour (expected sku, cost, lead_time_days)"),
    ]
    with pytest.raises(CsvImportError, match="the file is empty"):
        read_rows("  \n", ("sku",))


def test_a_row_with_too_many_values_is_an_error_short_rows_are_padded() -> None:
    with pytest.raises(CsvImportError) as caught:
        read_rows("sku,cost\nA,1,extra\nB\n", ("sku",), ("cost",))
    assert caught.value.errors == [(2, "3 values but only 2 columns")]
    assert read_rows("sku,cost\nB\n", ("sku",), ("cost",)) == [(2, {"sku": "B", "cost": ""})]


def test_field_parsers_say_what_is_wrong() -> None:
    assert parse_decimal("6.20", "cost") == Decimal("6.20")
    with pytest.raises(ValueError, match="cost 'NaN' is not a number|at least"):
        parse_decimal("NaN", "cost")
    with pytest.raises(ValueError, match="at least 0"):
        parse_decimal("-1", "cost")
    assert parse_bool("", "primary", default=True) is True and parse_bool("No", "primary", default=True) is False
    assert parse_date("2026-11-20", "expected_on") == date(2026, 11, 20)
    with pytest.raises(ValueError, match=r"not a date \(YYYY-MM-DD\)"):
        parse_date("20/11/2026", "expected_on")


def test_write_rows() -> None:
    assert write_rows(("a", "b"), [(1, None), ("x,y", 2)]) == 'a,b\n1,\n"x,y",2\n'
