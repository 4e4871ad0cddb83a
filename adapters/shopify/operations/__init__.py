"""The Admin GraphQL documents the adapter sends, one operation per `<Name>.graphql` file.

Fragments shared by several operations live once, in `fragments/<Name>.graphql` (one fragment
each, named like its file); `load` appends every fragment a document spreads, and the fragments
those spread, so each document sent is complete.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

# `...Name` spreads a fragment; `... on Type` is an inline fragment, not one to look up.
_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([_A-Za-z][_0-9A-Za-z]*)")
_COMMENT = re.compile(r"#[^\n]*")


@cache
def load(name: str) -> str:
    """The document of operation `name` (the file `operations/<name>.graphql`) with its fragments."""
    document = _read(files(__name__).joinpath(f"{name}.graphql"), f"no GraphQL operation named {name!r}")
    included: dict[str, str] = {}
    pending = _spreads(document)
    while pending:
        fragment = pending.pop(0)
        if fragment in included:
            continue
        included[fragment] = fragment_text(fragment)
        pending.extend(_spreads(included[fragment]))
    return "\n".join([document.rstrip(), *(included[f].rstrip() for f in sorted(included))]) + "\n"


@cache
def fragment_text(name: str) -> str:
    """The file `operations/fragments/<name>.graphql`."""
    resource = files(__name__).joinpath("fragments", f"{name}.graphql")
    return _read(resource, f"no GraphQL fragment named {name!r} (operations/fragments/{name}.graphql)")


def _read(resource, missing: str) -> str:  # type: ignore[no-untyped-def]
    if not resource.is_file():
        raise KeyError(missing)
    return resource.read_text(encoding="utf-8")


def _spreads(document: str) -> list[str]:
    return _SPREAD.findall(_COMMENT.sub("", document))


def names() -> list[str]:
    return sorted(p.name.removesuffix(".graphql") for p in files(__name__).iterdir() if p.name.endswith(".graphql"))


def fragment_names() -> list[str]:
    folder = files(__name__).joinpath("fragments")
    return sorted(p.name.removesuffix(".graphql") for p in folder.iterdir() if p.name.endswith(".graphql"))
