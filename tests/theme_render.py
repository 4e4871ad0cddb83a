"""Render the theme app extension's Liquid with python-liquid, as Shopify would, against sample data.

Shopify-only parts are supplied here: the `t` filter (the extension's locale files, with
`{{ name }}` interpolation), `json`, the `{% schema %}` block (taken out and parsed as JSON), and the
Liquid objects the blocks read (product, variants with their `$app` metafields, request, cart).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from liquid import Environment
from liquid.loaders import FileExtensionLoader

from tests.shared_files import REPO

EXTENSION = REPO / "extensions" / "backorder-eta"
_SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)


def locale_strings(language: str) -> dict[str, Any]:
    name = "en.default.json" if language == "en" else f"{language}.json"
    return json.loads((EXTENSION / "locales" / name).read_text())


def split_schema(path: Path) -> tuple[str, dict[str, Any]]:
    source = path.read_text()
    match = _SCHEMA.search(source)
    assert match, f"{path.name} has no schema"
    return source[: match.start()] + source[match.end() :], json.loads(match.group(1))


def environment(language: str) -> Environment:
    strings = locale_strings(language)

    def translate(key: str, **values: Any) -> str:
        node: Any = strings
        for part in key.split("."):
            node = node[part]
        return re.sub(r"{{\s*(\w+)\s*}}", lambda m: str(values[m.group(1)]), node)

    env = Environment(loader=FileExtensionLoader(EXTENSION / "snippets", ext=".liquid"))
    env.add_filter("t", translate)
    env.add_filter("json", lambda value: json.dumps(value, ensure_ascii=False))
    return env


def variant(ident: int, sku: str, price_cents: int, eta: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": ident, "sku": sku, "price": price_cents, "url": f"/products/tee?variant={ident}",
            "metafields": {"$app": {"backorder_eta": {"value": eta} if eta else None}}}


def render_block(name: str, language: str, *, product: dict[str, Any] | None = None,
                 cart: dict[str, Any] | None = None, primary: bool = True,
                 settings: dict[str, Any] | None = None) -> str:
    """The HTML of `blocks/<name>.liquid` for a storefront in `language`."""
    source, schema = split_schema(EXTENSION / "blocks" / f"{name}.liquid")
    defaults = {s["id"]: s.get("default") for s in schema.get("settings", [])}
    context = {
        "product": product or {},
        "cart": cart or {"currency": {"iso_code": "EUR"}, "item_count": 0, "items": []},
        "request": {"locale": {"primary": primary, "iso_code": language}, "origin": "https://tees.example"},
        "block": {"settings": {**defaults, **(settings or {})}, "shopify_attributes": 'data-block-id="b1"'},
    }
    return environment(language).from_string(source).render(**context)
