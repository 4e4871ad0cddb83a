"""The durable outbox: actions against stores and mail servers, executed at most once each.

Decisions are turned into actions in the same transaction that records the decision (a
transactional outbox), each with an idempotency key: enqueueing the same key twice is a no-op,
so a decision re-made after a crash or a duplicate webhook adds nothing. A worker claims due
actions, executes them, and records the outcome. Actions of one order run in the order they
were made; a failed one is retried with exponential back-off until it succeeds or, after
`MAX_ATTEMPTS`, is marked dead and shown to the merchant: never silently dropped.

A claim is a short lease (`leases.CLAIM_LEASE`) renewed by a heartbeat while the worker runs its
batch: a slow worker keeps its actions, a dead one's are taken over within the lease. Each claim
increments `attempts`, which is the claim's fencing token: the outcome is recorded only where
the row is still `running` under that token, so the late result of a claim that lapsed (its
worker stalled past the lease) never overwrites the outcome of the worker that took it over.

A process crash between a store call and recording its success means that call is made again
when the lease runs out; every `StoreClient` call is idempotent for that reason (tags are sets,
holds use a stable handle, captures and refunds carry the action's idempotency key).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, false, func, or_, select, true, tuple_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_delay, wait_exponential

from adapters.base import AuthRevoked, BackorderStarter, DeferredPaymentClient, LineQuantity, StoreClient, UserError
from connector.domain.model import ActionKind
from connector.storage.chunks import chunks
from connector.storage.db import Database
from connector.storage.leases import CLAIM_LEASE, Heartbeat, heartbeat_interval, take_claims
from connector.storage.one_of import one_of
from connector.storage.storefront_rows import current_values
from connector.storage.tables import ActionRow, ShopRow, status_literal
from connector.storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
LEASE = CLAIM_LEASE
WAVES = 8  # a pass follows its orders' next actions this many times (an order's chain is a handful long)


Kind = ActionKind  # the kinds live in the common model, where pure decisions name them
# The claim's "an earlier action of the same order" alias, made once: an alias builds a proxy of
# every column, which cost a busy worker more than the claim's own statement.
_EARLIER_ACTION = aliased(ActionRow)


def enqueue(
    session: Session,
    *,
    shop_id: int,
    order_id: int | None,
    kind: Kind,
    key: str,
    payload: Mapping[str, Any],
    now: datetime | None = None,
    known_keys: set[str] | None = None,
    waits_for_store: bool = True,
) -> bool:
    """Add an action unless one with the same idempotency key exists. Returns whether it was added.

    `known_keys`, when given, holds every key that could clash, read before (see
    `existing_keys`): it is checked and updated instead of querying. `waits_for_store=False` lets an
    email go without waiting for the order's earlier store actions (a store action always waits)."""
    if not waits_for_store and kind != Kind.EMAIL:
        raise ValueError(f"a store action ({kind}) runs after its order's earlier ones")
    if known_keys is not None:
        if key in known_keys:
            return False
        known_keys.add(key)
    else:
        # Without autoflush: the rows this session added are looked for below instead, so a decision's
        # actions are inserted together at its next flush, not one statement each as they are made.
        with session.no_autoflush:
            if session.scalar(select(ActionRow.id).where(ActionRow.idempotency_key == key)) is not None:
                return False
        # pending rows of this session are not visible to the query above until flushed
        for obj in session.new:
            if isinstance(obj, ActionRow) and obj.idempotency_key == key:
                return False
    now = now or utcnow()
    session.add(
        ActionRow(
            shop_id=shop_id,
            order_id=order_id,
            kind=str(kind),
            idempotency_key=key,
            payload=dict(payload),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            waits_for_store=waits_for_store,
        )
    )
    return True


# Actions done, each while its claim is still the current one (see `Outbox._ours`): Core, built once,
# as it runs for every email and the store actions before it. The ids recorded come back.
_ACTIONS = ActionRow.__table__
_RECORD_DONE = (
    _ACTIONS.update()
    .where(tuple_(_ACTIONS.c.id, _ACTIONS.c.attempts).in_(bindparam("ours", expanding=True)),
           _ACTIONS.c.status == "running")
    .values(status="done", done_at=bindparam("finished", type_=_ACTIONS.c.done_at.type), lease_until=None,
            last_error=None)
    .returning(_ACTIONS.c.id)
)


class _ClaimStatements:
    """The claim's statements, built once (building them cost more than running them): the due
    actions (of all orders, or of some), and the claim itself."""

    def __init__(self, db: Database) -> None:
        now = bindparam("now", type_=_ACTIONS.c.lease_until.type)
        earlier = _EARLIER_ACTION
        # An order's store actions run in the order they were decided; an email waits for the store
        # actions decided before it unless it only reports a decision (`waits_for_store` false: the
        # customer hears at once, however slow the store), and a mail server outage never holds up
        # the store.
        blocked = exists().where(
            earlier.order_id == ActionRow.order_id,
            earlier.id < ActionRow.id,
            earlier.kind != str(Kind.EMAIL),
            # statuses written into the SQL: the open actions' index by order (`ix_actions_open_by_order`)
            or_(earlier.status == status_literal("pending"),
                and_(earlier.status == status_literal("running"), earlier.lease_until > now)),
        )
        due = or_(  # statuses written into the SQL: the scan takes the open actions' index (`OPEN_ACTION`)
            and_(ActionRow.status == status_literal("pending"), ActionRow.next_attempt_at <= now),
            and_(ActionRow.status == status_literal("running"), ActionRow.lease_until <= now),  # its worker died
        )
        active_shops = select(ShopRow.id).where(ShopRow.status == "active")

        def candidates(which: Any) -> Any:
            return db.for_claim(
                select(ActionRow.id, ActionRow.status, ActionRow.attempts)
                .where(due, which, ActionRow.shop_id.in_(active_shops))
                .where(~(ActionRow.order_id.is_not(None) & ActionRow.waits_for_store & blocked))
                .order_by(ActionRow.id)
                .limit(bindparam("limit", type_=Integer)),
                ActionRow,
            )

        self.due = candidates(true())
        self.due_of = candidates(ActionRow.order_id.in_(bindparam("orders", expanding=True)))
        self.take = take_claims(ActionRow, "running", ActionRow, postgresql=not db.is_sqlite)


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these idempotency keys are taken (one query per `IN_LIST` keys: one for a batch's actions)."""
    taken: set[str] = set()
    for chunk in chunks(sorted(set(keys))):
        taken.update(session.scalars(select(ActionRow.idempotency_key).where(one_of(ActionRow.idempotency_key, chunk))))
    return taken


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential back-off with full jitter on the upper half: 30 s, 1 min, 2 min, ... capped at 6 h."""
    delay = min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    jitter = (rng or random).uniform(0.5, 1.0)
    return delay * jitter


def _lines(payload: Mapping[str, Any]) -> list[LineQuantity]:
    return [LineQuantity(str(li["line_id"]), int(li["quantity"])) for li in payload.get("lines", [])]


def _deferred(client: StoreClient) -> DeferredPaymentClient:
    if not isinstance(client, DeferredPaymentClient):
        raise UserError("this store offers no deferred payment (purchase option, saved payment methods)")
    return client


def _eta(payload: Mapping[str, Any]) -> date | None:
    return date.fromisoformat(payload["eta"]) if payload.get("eta") else None


def _start_backorder(client: StoreClient, order: str, payload: Mapping[str, Any]) -> None:
    """An order's wait begins: in one go where the store offers it, else its three parts in order."""
    tags, lines, reason = payload["tags"], _lines(payload), payload.get("reason", "awaiting stock")
    if isinstance(client, BackorderStarter):
        client.start_backorder(order, tags, lines, reason, _eta(payload), payload.get("note", ""))
        return
    client.add_tags(order, tags)
    client.hold_fulfillment(order, lines, reason)
    client.set_eta(order, _eta(payload), payload.get("note", ""))


def execute_store_action(client: StoreClient, kind: str, payload: Mapping[str, Any], key: str) -> None:
    if kind == Kind.ADJUST_STOCK:
        client.adjust_stock(payload["sku"], int(payload["delta"]), payload.get("location"), payload["reason"], key)
        return
    if kind == Kind.SET_SELLING:
        client.set_backorder_selling(
            payload["sku"], payload.get("product_id"), payload.get("variant_id"), bool(payload["selling"])
        )
        return
    if kind in (Kind.OPTION_ADD, Kind.OPTION_REMOVE):  # a shop's purchase option, not an order (issue 10)
        option, variants = str(payload["option"]), [str(v) for v in payload["variants"]]
        if kind == Kind.OPTION_ADD:
            _deferred(client).add_to_purchase_option(option, variants)
        else:
            _deferred(client).remove_from_purchase_option(option, variants)
        return
    order = str(payload["order"])
    match kind:
        case Kind.START_BACKORDER:
            _start_backorder(client, order, payload)
        case Kind.ADD_TAGS:
            client.add_tags(order, payload["tags"])
        case Kind.REMOVE_TAGS:
            client.remove_tags(order, payload["tags"])
        case Kind.HOLD:
            client.hold_fulfillment(order, _lines(payload), payload.get("reason", "awaiting stock"))
        case Kind.RELEASE:
            client.release_fulfillment(order)
        case Kind.CAPTURE:
            client.capture_payment(order, Decimal(payload["amount"]), payload["currency"], key)
        case Kind.SET_ETA:
            client.set_eta(order, _eta(payload), payload.get("note", ""))
        case Kind.NOTE:
            client.add_note(order, payload["text"], bool(payload.get("customer_visible")))
        case Kind.COLLECT_BALANCE:
            _deferred(client).collect_balance(order, payload["currency"], key)
        case Kind.REFUND:
            client.refund_lines(
                order, _lines(payload), Decimal(payload["amount"]), payload["currency"], payload.get("reason", ""), key
            )
        case _:
            raise ValueError(f"unknown store action {kind!r}")


ClientFor = Callable[[int], StoreClient]  # shop id -> client
MailFn = Callable[[Mapping[str, Any], str], None]  # (payload, idempotency key) -> sends


@dataclass
class DrainResult:
    done: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    lapsed: int = 0  # outcomes not recorded: the claim had lapsed and another worker took the action
    errors: list[str] = field(default_factory=list)
    full: bool = False  # the first claim took as many as asked: more may be due


class _ClaimLapsed(Exception):
    """The claim an outcome was to be recorded under is no longer current."""


def _is_permanent(exc: Exception) -> bool:
    return getattr(exc, "retryable", True) is False


class Outbox:
    def __init__(
        self,
        db: Database,
        client_for: ClientFor,
        send_mail: MailFn | None = None,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = LEASE,
        record_patience: float | None = None,
    ) -> None:
        """`record_patience`: seconds an outcome's record is retried while the database is unreachable
        (default: three quarters of the lease, while the claim, renewed until then, is still ours)."""
        self.db = db
        self.client_for = client_for
        self.send_mail = send_mail
        self.clock = clock
        self.lease = lease
        self.record_patience = lease.total_seconds() * 0.75 if record_patience is None else record_patience
        self._held_lock = threading.Lock()
        self._claims = _ClaimStatements(db)

    def _claim(self, limit: int, orders: Collection[int] | None = None) -> list[ActionRow]:
        """Claim up to `limit` due actions (of `orders` only, when given), oldest first."""
        now = self.clock()
        claims = self._claims
        with self.db.session(background=True) as s:
            if orders is None:
                candidates = s.execute(claims.due, {"now": now, "limit": limit}).all()
            else:
                candidates = s.execute(claims.due_of, {"now": now, "limit": limit, "orders": list(orders)}).all()
            if not candidates:
                return []
            claimed = s.scalars(
                claims.take.statement,
                claims.take.params(candidates, now + self.lease),
                execution_options={"synchronize_session": False, "populate_existing": True},
            ).all()
        return sorted(claimed, key=lambda row: row.id)

    def _run(self, row: ActionRow, client_for: ClientFor) -> None:
        if row.kind == Kind.EMAIL:
            if self.send_mail is None:
                raise RuntimeError("no mail sender configured (MAIL_URL)")
            self.send_mail(row.payload, row.idempotency_key)
        elif row.kind == Kind.PUBLISH_STOREFRONT:
            self._publish_storefront(row, client_for)
        else:
            execute_store_action(client_for(row.shop_id), row.kind, row.payload, row.idempotency_key)

    def _publish_storefront(self, row: ActionRow, client_for: ClientFor) -> None:
        """Publish the *current* values of the action's variants (a late retry never restores an older one).

        Publishing is a capability: a client without `publish_storefront` (a platform whose
        storefront does not read values from us) has the action completed with nothing sent."""
        client = client_for(row.shop_id)
        publish = getattr(client, "publish_storefront", None)
        if publish is None:
            log.info("storefront values not published: the %s client cannot publish", type(client).__name__)
            return
        with self.db.read() as s:
            values = current_values(s, row.shop_id, [str(sku) for sku in row.payload.get("skus", [])])
        if values:
            publish(values)

    def renew(self, held: Mapping[int, int]) -> int:
        """Extend the claims in `held` (action id -> claim token) that are still ours. Returns how many."""
        if not held:
            return 0
        ours = or_(false(), *(and_(ActionRow.id == i, ActionRow.attempts == token) for i, token in held.items()))
        with self.db.session(background=True) as s:
            res = s.execute(
                update(ActionRow)
                .where(ours, ActionRow.status == "running")
                .values(lease_until=self.clock() + self.lease)
            )
            return res.rowcount

    def _ours(self, row: ActionRow) -> Any:
        """The row, while the claim `row` was read under is still the current one."""
        return and_(ActionRow.id == row.id, ActionRow.status == "running", ActionRow.attempts == row.attempts)

    def drain(self, limit: int = 200) -> DrainResult:
        """Execute the due actions once: the `limit` oldest, then, wave after wave, what their orders
        have due next as soon as the action before it is done (an order's next action does not wait
        for another pass). Returns counts; raises nothing for action failures."""
        result = DrainResult()
        rows = self._claim(limit)
        if not rows:
            return result
        result.full = len(rows) >= limit
        held = {row.id: row.attempts for row in rows}
        # One client per shop for the pass: its credentials are read, and its connection opened, once.
        clients: dict[int, StoreClient] = {}

        def client_for(shop_id: int) -> StoreClient:
            if shop_id not in clients:
                clients[shop_id] = self.client_for(shop_id)
            return clients[shop_id]

        def beat() -> int:
            with self._held_lock:
                snapshot = dict(held)
            return self.renew(snapshot)

        def settled(rows: Iterable[ActionRow]) -> None:
            with self._held_lock:
                for row in rows:
                    held.pop(row.id, None)

        with Heartbeat(beat, heartbeat_interval(self.lease), name="outbox-heartbeat"):
            for wave in range(WAVES):
                unrecorded: list[ActionRow] = []  # store actions done, recorded with the next record
                for row in rows:
                    settled(self._execute(row, client_for, result, unrecorded))
                settled(self._record(unrecorded, result))  # before the next wave claims what follows them
                orders = {row.order_id for row in rows if row.order_id is not None}
                if not orders or wave == WAVES - 1:
                    break
                rows = self._claim(limit, orders)
                if not rows:
                    break
                with self._held_lock:
                    held.update((row.id, row.attempts) for row in rows)
        return result

    def _execute(self, row: ActionRow, client_for: ClientFor, result: DrainResult,
                 unrecorded: list[ActionRow]) -> list[ActionRow]:
        """Run one claimed action and record its outcome (under its claim). Returns the actions whose
        outcomes are now recorded.

        An email is recorded done at once: sent again after a crash, the customer reads it twice. A
        store action done waits in `unrecorded` for the next record of its pass (the next email's,
        or the wave's end) and goes in the same statement: made again after a crash in between, it
        changes nothing, as every store call is idempotent (see the module's docstring). A waiting
        order's start and email thus cost one write, not two."""
        try:
            self._run(row, client_for)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried or surfaced
            self._failed(row, exc, result)
            return [row]
        if row.kind != Kind.EMAIL:
            unrecorded.append(row)
            return []
        rows = [*unrecorded, row]
        unrecorded.clear()
        return self._record(rows, result)

    def _record(self, rows: list[ActionRow], result: DrainResult) -> list[ActionRow]:
        """Record `rows` done, each under its claim, in one statement. Returns them."""
        if not rows:
            return []
        try:
            recorded = self._record_done(rows)
        except OperationalError:
            # The effects happened and the database blinked before they were written down: retried,
            # since giving up lets the claims lapse and the store calls or the email be made again.
            log.warning("actions %s: done, but the database could not record them; retrying",
                        ", ".join(f"{row.id} ({row.kind})" for row in rows))
            recorded = Retrying(
                retry=retry_if_exception_type(OperationalError),
                stop=stop_after_delay(self.record_patience),
                wait=wait_exponential(multiplier=0.05, max=1.0),
                before_sleep=before_sleep_log(log, logging.WARNING),
                reraise=True,
            )(self._record_done, rows)
        for row in rows:
            if row.id in recorded:
                result.done += 1
            else:
                self._lapsed(row, result)
        return rows

    def _record_done(self, rows: list[ActionRow]) -> set[int]:
        """The ids of `rows` recorded done: those whose claim was still current (one fenced UPDATE,
        atomic alone)."""
        with self.db.single_statement(background=True) as connection:
            return set(connection.execute(_RECORD_DONE, {
                "ours": [(row.id, row.attempts) for row in rows], "finished": self.clock()}).scalars())

    def _lapsed(self, row: ActionRow, result: DrainResult) -> None:
        result.lapsed += 1
        log.warning(
            "action %s (%s): claim lapsed before its outcome was recorded; left to its new claimant", row.id, row.kind
        )

    def _failed(self, row: ActionRow, exc: Exception, result: DrainResult) -> None:
        message = f"{type(exc).__name__}: {exc}"[:2000]
        result.errors.append(message)
        now = self.clock()
        try:
            with self.db.session(background=True) as s:
                values: dict[str, Any] = {"last_error": message, "lease_until": None}
                if isinstance(exc, AuthRevoked):
                    # Keep the action: it runs once the merchant re-connects the store.
                    shop = s.get(ShopRow, row.shop_id)
                    if shop is not None:
                        shop.status = "needs_reconnect"
                        shop.status_reason = f"the store refused our credentials: {exc}"
                    values.update(status="pending", next_attempt_at=now, attempts=row.attempts - 1)
                    outcome = "retried"
                elif _is_permanent(exc):
                    values["status"] = "failed"
                    outcome = "failed"
                elif row.attempts >= MAX_ATTEMPTS:
                    values["status"] = "dead"
                    outcome = "dead"
                else:
                    values.update(status="pending", next_attempt_at=now + backoff(row.attempts))
                    outcome = "retried"
                if not s.execute(update(ActionRow).where(self._ours(row)).values(**values)).rowcount:
                    raise _ClaimLapsed  # roll back, the shop's status too: the action is no longer ours
        except _ClaimLapsed:
            self._lapsed(row, result)
            return
        setattr(result, outcome, getattr(result, outcome) + 1)
        if outcome == "failed":
            log.warning("action %s (%s) failed for good: %s", row.id, row.kind, message)
        elif outcome == "dead":
            log.error("action %s (%s) gave up after %d attempts: %s", row.id, row.kind, row.attempts, message)

    def retry_now(self, action_id: int, shop_id: int) -> bool:
        """The merchant asks to try a failed or dead action again."""
        with self.db.session() as s:
            res = s.execute(
                update(ActionRow)
                .where(
                    ActionRow.id == action_id, ActionRow.shop_id == shop_id, ActionRow.status.in_(("failed", "dead"))
                )
                .values(status="pending", attempts=0, next_attempt_at=self.clock())
            )
            return res.rowcount == 1

    def depth(self) -> dict[str, int]:
        with self.db.read() as s:
            rows = s.execute(select(ActionRow.status, func.count()).group_by(ActionRow.status)).all()
            return {status: count for status, count in rows}
