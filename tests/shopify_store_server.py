"""One Shopify shop's Admin GraphQL API behind HTTP on loopback, for benchmarks and multi-process tests.

`FakeShopifyStore` (tests/shopify_fake_store.py) keeps the shop's state and applies the adapter's
mutations as Shopify does; `ShopifyAdminMock` (tests/shopify_schema.py) validates every document
against the real Admin schema and executes it over the handlers' data. Here the two answer real
HTTP requests (`ThreadingHTTPServer`, as tests/fault_store.py does for the sandbox store), so Celery
worker processes can call the shop: they point their `GraphQLClient` at `url` (see
tests/flash_sale_worker.py). Every call is recorded with the time it arrived, the order it concerns
and its cost by Shopify's published rules (`requested_cost`), so a benchmark can count what a
decision costs against the shop's rate limit.

The answer reports a full cost bucket (no throttling): the benchmark measures the service, and the
rate limit is accounted for from the recorded costs instead (see the README's capacity model).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import responses
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_named_type,
    parse,
    validate,
)
from graphql.language import DocumentNode, SelectionSetNode, VariableNode

from adapters.shopify.ids import legacy_id
from tests.graphql_answers import answer_or_none
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock, admin_schema

MUTATION_COST = 10  # Shopify: every mutation costs 10 points
EXECUTED_FIRST = 50  # answers of each operation made by graphql-core's executor too, and compared
EXECUTED_EVERY = 100  # after those, one answer in this many
CONNECTION_COST = 2  # Shopify: a connection costs 2 plus its page size times the cost of one node


@dataclass(frozen=True)
class StoreCall:
    at: float  # time.time() when the request arrived
    operation: str
    order_id: str | None  # the Shopify order it concerns (legacy id), when it concerns one
    cost: int  # requested: what the bucket must hold before the call runs
    mutation: bool
    actual: int = 0  # what the call cost once run (Shopify refunds the difference)


@lru_cache(maxsize=256)
def _document(query: str) -> tuple[DocumentNode, str, bool]:
    """Parse and validate once per document text (the adapter sends a few dozen distinct documents)."""
    document = parse(query)
    errors = validate(admin_schema(), document)
    assert not errors, f"document does not validate against the Admin schema: {[e.message for e in errors]}"
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(ops) == 1 and ops[0].name, "one named operation per document"
    return document, ops[0].name.value, ops[0].operation == OperationType.MUTATION


def requested_cost(document: DocumentNode, variables: dict[str, Any]) -> int:
    """The query cost by Shopify's published rules: for a query, 1 per object, 0 per scalar or enum,
    and a connection 2 + (first or last) x the cost of one node; 10 per mutation, and (our cautious
    reading: the published rules do not say) the connections its answer selects priced as in a query."""
    op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")
                 and not isinstance(d, OperationDefinitionNode)}
    schema = admin_schema()
    if op.operation == OperationType.MUTATION:
        return sum(MUTATION_COST + _selection_cost(schema, schema.mutation_type, SelectionSetNode(selections=(node,)),
                                                   variables, fragments, objects=0)
                   for node in op.selection_set.selections)
    return max(1, _selection_cost(schema, schema.query_type, op.selection_set, variables, fragments))


@lru_cache(maxsize=1024)
def _requested_cost_of(query: str, sizes: tuple[tuple[str, int], ...]) -> int:
    """`requested_cost` once per document and page sizes: only the integer variables (the `first`
    and `last` of its connections) move it."""
    return requested_cost(_document(query)[0], dict(sizes))


def _selection_cost(schema: Any, parent: Any, selection: SelectionSetNode | None, variables: dict[str, Any],
                    fragments: dict[str, Any], objects: int = 1) -> int:
    """`objects`: what an object costs (0: only connections are priced)."""
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__") or not hasattr(parent, "fields"):
                continue
            field = parent.fields.get(node.name.value)
            if field is None:
                continue
            named = get_named_type(field.type)
            if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
                continue
            inner = _selection_cost(schema, named, node.selection_set, variables, fragments, objects)
            if named.name.endswith("Connection"):
                size = 1
                for arg in node.arguments or ():
                    if arg.name.value in ("first", "last"):
                        value = arg.value
                        size = int(variables.get(value.name.value, 1) if isinstance(value, VariableNode)
                                   else value.value)  # type: ignore[attr-defined]
                if not objects:  # the nodes are priced as in a query
                    inner = _selection_cost(schema, named, node.selection_set, variables, fragments)
                total += CONNECTION_COST + size * max(inner - 1, 0)  # nodes' cost per node, pageInfo aside
            else:
                total += objects + inner  # an object (or a list of them, counted once as Shopify's estimate does)
        elif isinstance(node, InlineFragmentNode):
            target = schema.get_type(node.type_condition.name.value) if node.type_condition else parent
            total += _selection_cost(schema, target, node.selection_set, variables, fragments, objects)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value)
                total += _selection_cost(schema, target, fragment.selection_set, variables, fragments, objects)
    return total


def _actual_connections(data: Any) -> int:
    """What the connections in a mutation's answer cost once run (see `requested_cost`)."""
    if isinstance(data, list):
        return sum(_actual_connections(item) for item in data)
    if not isinstance(data, dict):
        return 0
    if "nodes" in data or "edges" in data:
        return _actual_cost(data)
    return sum(_actual_connections(value) for value in data.values())


def _actual_cost(data: Any) -> int:
    """What a query cost once run: 1 per object returned, a connection 2 (its nodes counted as returned)."""
    if isinstance(data, list):
        return sum(_actual_cost(item) for item in data)
    if not isinstance(data, dict):
        return 0
    own = 2 if "nodes" in data or "edges" in data else 1
    return own + sum(_actual_cost(value) for key, value in data.items() if key != "pageInfo")


class _Request:
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers


class _IndexedStore(FakeShopifyStore):
    """The fake shop, finding a fulfillment order by id through an index instead of a scan of every
    order (a sale holds thousands; the index is rebuilt when an id is not in it yet, e.g. the part a
    partial hold split off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fo_index: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def _fo_by_gid(self, ident: str) -> tuple[dict[str, Any], dict[str, Any]]:
        found = self._fo_index.get(ident)
        if found is None:
            self._fo_index = {fo["id"]: (order, fo) for order in self.orders.values()
                              for fo in order["fulfillmentOrders"]}
            found = self._fo_index.get(ident)
        if found is None:
            raise AssertionError(f"no fulfillment order {ident}")
        return found


class ShopifyStoreServer:
    """`store` behind `url` (the Admin GraphQL endpoint path is accepted under any shop)."""

    def __init__(self, shop: str, shop_resource: dict[str, Any] | None = None) -> None:
        self.mock = ShopifyAdminMock(responses.RequestsMock(assert_all_requests_are_fired=False), shop)
        self.store = _IndexedStore(self.mock, shop_resource)
        self.calls: list[StoreCall] = []
        self.answered: Counter[str] = Counter()  # answers made, by operation
        self.executed: Counter[str] = Counter()  # of those, made by graphql-core's executor too
        self.mismatches: list[str] = []  # answers where the two differed (graphql-core's was sent)
        self._lock = threading.Lock()  # the fake store's dicts are not made for concurrent callers
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the workers' requests.Session reuses connections
            # The headers and the body went out in two writes, and on a kept-alive connection Nagle's
            # algorithm held the body until the client's delayed ACK of the headers: 40 ms a call,
            # which capped the flash sale's outbox at about 120 store calls a second (issue 13). Now
            # both are buffered and sent in one write when the answer is complete (one segment, one
            # wake-up of the caller instead of two), and Nagle's algorithm is off for larger answers.
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, payload = server.answer(body)
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="shopify-store", daemon=True)

    def start(self) -> ShopifyStoreServer:
        """Serve, once the Admin schema is built whole: built lazily, it would cost the first calls of
        a benchmark's burst seconds of CPU that belong to no request of the service under test."""
        schema = admin_schema()
        for named in schema.type_map.values():
            for field in (getattr(named, "fields", None) or {}).values():
                _ = getattr(field, "args", None)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, raw: bytes) -> tuple[int, str]:
        arrived = time.time()
        body = json.loads(raw)
        document, name, mutation = _document(body["query"])
        variables = body.get("variables") or {}
        with self._lock:
            order_id = self._order_of(variables)
            queue = self.mock.handlers.get(name)
            assert queue, f"the fake store has no handler for {name}"
            data = queue[0](variables) if callable(queue[0]) else queue[0]
            cost = _requested_cost_of(body["query"], tuple(sorted(
                (key, value) for key, value in variables.items() if type(value) is int)))
        answer = self._answer_of(document, name, mutation, data, variables)
        if mutation:
            actual = sum(MUTATION_COST + _actual_connections(part) for part in answer.values())
        else:
            actual = max(1, _actual_cost(answer))
        with self._lock:
            self.calls.append(StoreCall(arrived, name, order_id, cost, mutation, actual))
        extensions = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": {
            "maximumAvailable": 2000.0, "currentlyAvailable": 2000.0, "restoreRate": 100.0}}}
        return 200, json.dumps({"data": answer, "extensions": extensions})

    def _answer_of(self, document: DocumentNode, name: str, mutation: bool, data: Any,
                   variables: dict[str, Any]) -> dict[str, Any]:
        """The answer's data: the document's selection read off the fake shop's data
        (`tests.graphql_answers`: a tenth of graphql-core's executor's CPU, which a flash sale's tens
        of thousands of calls charged to the machine under test). The executor still makes the first
        `EXECUTED_FIRST` answers of each operation and one in `EXECUTED_EVERY` after them, and every
        answer the fast way cannot make with certainty; where the two differ, the executor's is sent
        and the difference kept in `mismatches` (the benchmarks fail on any)."""
        with self._lock:
            self.answered[name] += 1
            made = self.answered[name]
        fast = answer_or_none(admin_schema(), document, data, variables)
        if fast is not None and made > EXECUTED_FIRST and made % EXECUTED_EVERY:
            return fast
        result = execute_sync(admin_schema(), document, root_value=data, variable_values=variables,
                              operation_name=name)
        assert not result.errors, f"{name}: fake data or variables do not fit the schema: {result.errors}"
        with self._lock:
            self.executed[name] += 1
            if fast is not None and fast != result.data:
                self.mismatches.append(f"{name}: {fast!r} != {result.data!r}"[:2000])
        return result.data or {}

    def _order_of(self, variables: dict[str, Any]) -> str | None:
        """The order a call concerns, from its variables (order, fulfillment order or metafield owner)."""
        candidates = [variables.get("id"), (variables.get("input") or {}).get("id"),
                      (variables.get("order") or {}).get("id"), variables.get("fulfillmentOrder"),
                      *((m or {}).get("ownerId") for m in variables.get("metafields") or ())]
        for ident in candidates:
            if not isinstance(ident, str):
                continue
            if "/Order/" in ident:
                return str(legacy_id(ident))
            if "/FulfillmentOrder/" in ident:
                try:
                    order, _ = self.store._fo_by_gid(ident)
                except AssertionError:
                    return None
                return str(legacy_id(order["id"]))
        return None

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(c.operation for c in self.calls)
