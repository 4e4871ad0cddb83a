"""The Admin GraphQL documents the adapter sends, one operation per `<Name>.graphql` file."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    """The document of operation `name` (the file `operations/<name>.graphql`)."""
    resource = files(__name__).joinpath(f"{name}.graphql")
    if not resource.is_file():
        raise KeyError(f"no GraphQL operation named {name!r}")
    return resource.read_text(encoding="utf-8")


def names() -> list[str]:
    return sorted(p.name.removesuffix(".graphql") for p in files(__name__).iterdir() if p.name.endswith(".graphql"))
