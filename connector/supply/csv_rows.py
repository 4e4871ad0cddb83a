"""Reading merchant CSV files: header checks and per-row errors with the row's line number.

A file is read whole before anything is written: callers collect every row's errors and import
nothing unless there are none, so a bad file loses nothing and says exactly what to fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation


@dataclass
class CsvImportError(ValueError):
    """Nothing was imported; `errors` lists ``(line number, message)`` (line 1 is the header)."""

    errors: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"line {n}: {m}" for n, m in self.errors)


def read_rows(text: str, required: Sequence[str], optional: Sequence[str] = ()) -> list[tuple[int, dict[str, str]]]:
    """Rows as ``(line number, {column: stripped value})``; blank rows are skipped.

    Column names are matched case-insensitively; a missing required column or an unknown one is
    an error for line 1 (a typo in a header would otherwise drop a whole column silently)."""
    text = text.lstrip("\ufeff")  # spreadsheets like to start UTF-8 with a byte-order mark
    if not text.strip():
        raise CsvImportError([(1, "the file is empty: the first line must name the columns")])
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader)]
    errors: list[tuple[int, str]] = []
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing:
        errors.append((1, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        errors.append((1, f"unknown column(s): {', '.join(unknown)} (expected {', '.join([*required, *optional])})"))
    if errors:
        raise CsvImportError(errors)
    rows: list[tuple[int, dict[str, str]]] = []
    for values in reader:
        number = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            errors.append((number, f"{len(values)} values but only {len(header)} columns"))
            continue
        values = values + [""] * (len(header) - len(values))
        rows.append((number, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    if errors:
        raise CsvImportError(errors)
    return rows


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


# ---- field parsers: each returns the value or raises ValueError with a merchant's message ----


def parse_decimal(value: str, what: str, *, minimum: Decimal = Decimal(0)) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not number.is_finite() or number < minimum:
        raise ValueError(f"{what} must be a number of at least {minimum}")
    return number


def parse_float(value: str, what: str, *, minimum: float = 0.0, maximum: float = 365.0) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not minimum <= number <= maximum:
        raise ValueError(f"{what} must be between {minimum:g} and {maximum:g}")
    return number


def parse_int(value: str, what: str, *, minimum: int = 1) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"{what} must be at least {minimum}")
    return number


def parse_bool(value: str, what: str, *, default: bool) -> bool:
    lowered = value.strip().lower()
    if lowered == "":
        return default
    if lowered in {"1", "yes", "true", "y", "primary"}:
        return True
    if lowered in {"0", "no", "false", "n", "alternative"}:
        return False
    raise ValueError(f"{what} {value!r} must be yes or no")


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None
