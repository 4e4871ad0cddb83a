"""Long lists looked up in pieces: one statement per `IN_LIST` values, none for an empty list.

The lookups bind each piece as one parameter (`storage.one_of`), so no bound-parameter limit sets
the size any more (500 did while each value was a parameter of its own); a piece only bounds one
statement's array and the rows it brings back at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

IN_LIST = 5_000  # values per lookup statement
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """`items` in consecutive lists of at most `size`."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
