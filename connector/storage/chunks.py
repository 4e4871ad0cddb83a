"""Long `IN (...)` lists sent in chunks, far below every database's bound-parameter limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

IN_LIST = 500  # values per IN (...) list
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """`items` in consecutive lists of at most `size`."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
