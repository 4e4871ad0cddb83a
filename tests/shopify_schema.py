"""The real Shopify Admin GraphQL schema, and a `responses` mock of the Admin API that enforces it.

The schema is `shared/shopify/admin_2026-10.json.gz` beside the repository; when that copy is absent
the set-up fetches it itself with `npm pack @shopify/dev-mcp@1.16.0` (the file is
`dist/data/admin_2026-10.json.gz` in that package) and keeps it under `.cache/shopify/`.

`ShopifyAdminMock` answers the Admin GraphQL endpoint of one shop. Every request must be a document
that validates against the schema, with variables that coerce to its variable types; otherwise the
mock raises `AssertionError` inside the client's call, so the test fails where the bad call was made.
Handlers give the data by schema field names; the mock *executes* the document over that data, so the
client receives exactly the fields it selected, and a handler that leaves out a non-null field fails.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import responses
from graphql import GraphQLSchema, build_client_schema, execute_sync, parse, validate
from graphql.language import OperationDefinitionNode

from tests.graphql_answers import answer_or_none
from tests.shared_files import REPO, shared_dir

SCHEMA_FILE = "admin_2026-10.json.gz"
NPM_PACKAGE = "@shopify/dev-mcp@1.16.0"
CACHE_DIR = REPO / ".cache" / "shopify"


def _fetch_with_npm(target: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError(f"{SCHEMA_FILE} is not beside the repository and npm is not installed to fetch it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(f"package/dist/data/{SCHEMA_FILE}")
            if member is None:
                raise FileNotFoundError(f"{SCHEMA_FILE} missing from {NPM_PACKAGE}")
            partial = target.with_suffix(".part")
            partial.write_bytes(member.read())
            partial.replace(target)
    return target


def schema_path() -> Path:
    explicit = os.environ.get("SHOPIFY_ADMIN_SCHEMA")
    if explicit:
        return Path(explicit)
    shared = shared_dir()
    if shared is not None and (shared / "shopify" / SCHEMA_FILE).is_file():
        return shared / "shopify" / SCHEMA_FILE
    cached = CACHE_DIR / SCHEMA_FILE
    return cached if cached.is_file() else _fetch_with_npm(cached)


@cache
def _schema_file() -> dict[str, Any]:
    with gzip.open(schema_path(), "rt", encoding="utf-8") as handle:
        return json.load(handle)


@cache
def admin_schema() -> GraphQLSchema:
    introspection = _schema_file()
    schema = build_client_schema(introspection.get("data", introspection))
    schema._validation_errors = []  # Shopify's schema trips one strictness rule of graphql-core
    return schema


def validation_errors(document: str, schema: GraphQLSchema | None = None) -> list[str]:
    return [e.message for e in validate(schema or admin_schema(), parse(document))]


# ---- the mock ------------------------------------------------------------------------------


@dataclass
class Raw:
    """A raw HTTP answer (for throttling, outages, revoked tokens)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Call:
    operation: str
    variables: dict[str, Any]
    headers: Mapping[str, str]


Handler = Callable[[dict[str, Any]], Any] | Mapping[str, Any] | Raw

ROOMY_COST = {
    "requestedQueryCost": 10, "actualQueryCost": 10,
    "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0, "restoreRate": 100.0},
}


class ShopifyAdminMock:
    def __init__(self, rsps: responses.RequestsMock, shop: str, api_version: str = "2026-10") -> None:
        self.shop = shop
        self.url = f"https://{shop}/admin/api/{api_version}/graphql.json"
        self.calls: list[Call] = []
        self.handlers: dict[str, list[Handler]] = {}
        self.expected_token: str | None = None
        rsps.add_callback(responses.POST, self.url, callback=self._answer, content_type="application/json")

    def on(self, operation: str, *handlers: Handler) -> ShopifyAdminMock:
        """Answer `operation` with these handlers in turn; the last one keeps answering."""
        self.handlers[operation] = list(handlers)
        return self

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [c.variables for c in self.calls if c.operation == operation]

    @property
    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        document = parse(body["query"])
        errors = validate(admin_schema(), document)
        assert not errors, f"document does not validate against the Admin schema: {[e.message for e in errors]}"
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(operations) == 1 and operations[0].name, "one named operation per document"
        name = operations[0].name.value
        assert body.get("operationName") in (None, name)
        if self.expected_token is not None:
            assert request.headers.get("X-Shopify-Access-Token") == self.expected_token, "wrong access token"
        variables = body.get("variables") or {}
        self.calls.append(Call(name, variables, dict(request.headers)))

        queue = self.handlers.get(name)
        assert queue, f"the mock has no handler for {name}"
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        answer = handler(variables) if callable(handler) else handler
        if isinstance(answer, Raw):
            raw = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
            return answer.status, dict(answer.headers), raw

        result = execute_sync(admin_schema(), document, root_value=answer, variable_values=variables,
                              operation_name=name)
        assert not result.errors, f"{name}: mock data or variables do not fit the schema: {result.errors}"
        _same_answer_read_fast(name, document, answer, variables, result.data)
        return 200, {}, json.dumps({"data": result.data, "extensions": {"cost": ROOMY_COST}})


def _same_answer_read_fast(name: str, document: Any, data: Any, variables: dict[str, Any], executed: Any) -> None:
    """Every answer of the suite's Shopify tests is also read the fast way the benchmarks' fake shop
    uses (`tests.graphql_answers`), which must give the executor's answer or decline (`Unfit`)."""
    fast = answer_or_none(admin_schema(), document, data, variables)
    assert fast is None or fast == executed, (
        f"{name}: the fast answer {fast!r} differs from the executor's {executed!r}")


@cache
def access_requirements() -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(type, field or None) -> the offline scopes of which one is needed, from the schema package."""
    items = _schema_file().get("offline_scopes", {}).get("items", [])
    return {(i["typeName"], i.get("fieldName")): tuple(i["offlineScopes"]) for i in items if i.get("offlineScopes")}
