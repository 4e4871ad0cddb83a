"""The durable webhook inbox.

`store` keeps a verified delivery and answers at once; stores retry slow or failed deliveries,
so the HTTP answer must not wait for processing. A delivery seen before (same platform, shop
and event id) is acknowledged and not stored again.

`process_pending` normalises each stored delivery through its adapter and applies the events,
re-evaluates what they touched and enqueues the resulting actions, all in one transaction, then
marks the delivery done in that same transaction. A crash at any point leaves the delivery
pending (its lease runs out and it is claimed again) with nothing half-applied: nothing lost,
nothing done twice. Claims are short leases (`leases.CLAIM_LEASE`) renewed by a heartbeat while
the batch runs; the delivery being processed is locked in its transaction and fenced by its
claim token (`attempts`), so a worker whose claim lapsed cannot apply it a second time.

A payload that cannot be normalised, or holds values no store sends (see `connector.domain.store_limits`),
goes to the dead letter at once with the reason, body kept, for the merchant to see and replay.
So does a failure that trying again cannot fix (the data overflows a column, a value of the wrong
type): it is logged as a warning, not retried. Other failures (the database is down, a lock timed
out) are retried with back-off, then dead-lettered with the error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, false, func, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from adapters.base import Delivery, NormalisationError, PlatformAdapter
from connector.backorders import order_edits as edits
from connector.backorders.selling_limits import limit_selling
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.dispatch.outbox import backoff
from connector.domain.model import Event, Platform
from connector.domain.store_limits import OutOfBounds, check_events
from connector.intake.apply import MAX_HOLD, SETTLE, apply_events, end_hold, prefetch_orders, whole_second
from connector.shops.directory import find_row, lock_shop
from connector.storage.db import Database
from connector.storage.group_commit import GroupInsert
from connector.storage.leases import CLAIM_LEASE, Heartbeat, heartbeat_interval, take_claims
from connector.storage.one_of import one_of
from connector.storage.tables import DeliveryRow, ShopRow, StockLevelRow, status_literal
from connector.storage.types import as_utc, utcnow

SECOND = timedelta(seconds=1)
log = logging.getLogger(__name__)

LEASE = CLAIM_LEASE
MAX_ATTEMPTS = 8
INTEGRITY_ATTEMPTS = 2  # a constraint that fails twice is the data's doing
BATCH = 1000  # one shop's deliveries applied in one transaction and evaluated once (see `process_batch`)


def _unfinished(now: datetime) -> Any:
    """Deliveries still to be applied: untried, or being processed under a live claim (one that
    failed and waits to retry holds up nothing)."""
    return or_(  # statuses written into the SQL: the open deliveries' index serves (`OPEN_DELIVERY`)
        and_(DeliveryRow.status == status_literal("pending"), DeliveryRow.attempts == 0),
        and_(DeliveryRow.status == status_literal("processing"), DeliveryRow.lease_until > now),
    )


class _ClaimStatements:
    """The claim's three statements, built once (building them cost more than running them): the due
    candidates, the first unfinished delivery of each shop outside them, and the claim itself."""

    def __init__(self, db: Database) -> None:
        now = bindparam("now", type_=DeliveryRow.__table__.c.lease_until.type)
        due = or_(  # statuses written into the SQL: the scan takes the open deliveries' index (`OPEN_DELIVERY`)
            and_(DeliveryRow.status == status_literal("pending"),
                 or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now)),
            and_(DeliveryRow.status == status_literal("processing"), DeliveryRow.lease_until <= now),
        )
        # One shop's deliveries are applied in the order they arrived, however many workers claim:
        # applied out of order, an order and its stock report would meet half-counted, and the
        # decisions made in between would be acted on. So a delivery waits while an earlier one of
        # its shop is being processed, or is still untried outside this batch (another worker is
        # claiming it). One that failed and waits to retry holds up nothing.
        # The first delivery each shop has being processed, found once per claim (over the few rows
        # of `ix_deliveries_processing`) and kept (MATERIALIZED): planned on statistics that lag a
        # sale, PostgreSQL otherwise ran it again for every candidate, seconds per claim.
        busy = (
            select(DeliveryRow.platform, DeliveryRow.shop_domain, func.min(DeliveryRow.id).label("first"))
            .where(DeliveryRow.status == status_literal("processing"), DeliveryRow.lease_until > now)
            .group_by(DeliveryRow.platform, DeliveryRow.shop_domain)
            .cte("busy")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        self.candidates = db.for_claim(
            select(DeliveryRow.id, DeliveryRow.status, DeliveryRow.attempts, DeliveryRow.platform,
                   DeliveryRow.shop_domain)
            .outerjoin(busy, and_(busy.c.platform == DeliveryRow.platform,
                                  busy.c.shop_domain == DeliveryRow.shop_domain))
            .where(due, or_(busy.c.first.is_(None), DeliveryRow.id < busy.c.first))
            .order_by(DeliveryRow.id)
            .limit(bindparam("limit", type_=Integer)),
            DeliveryRow,
        )
        self.first_outside = (
            select(DeliveryRow.platform, DeliveryRow.shop_domain, func.min(DeliveryRow.id))
            .where(_unfinished(now), DeliveryRow.id < bindparam("last"),
                   DeliveryRow.id.not_in(bindparam("ids", expanding=True)))
            .group_by(DeliveryRow.platform, DeliveryRow.shop_domain)
        )
        self.take = take_claims(DeliveryRow, "processing", DeliveryRow.id, DeliveryRow.attempts,
                                postgresql=not db.is_sqlite)


class _OneAtATime(Exception):
    """A batch that must be processed one delivery at a time instead."""


@dataclass(frozen=True)
class Processed:
    done: int = 0
    dead: int = 0
    retried: int = 0
    lapsed: int = 0  # claims that were no longer ours when their turn came (another worker took them)


def delivery_row(delivery: Delivery, received_at: datetime) -> dict[str, Any]:
    """The deliveries table's row of a verified delivery, as stored."""
    return {
        "platform": str(delivery.platform),
        "shop_domain": delivery.shop,
        "topic": delivery.topic,
        "event_id": delivery.event_id,
        "headers": dict(delivery.headers),
        "body": delivery.body,
        "status": "pending",
        "attempts": 0,
        "received_at": received_at,
    }


class Inbox:
    def __init__(
        self,
        db: Database,
        adapters: Mapping[Platform, PlatformAdapter],
        clock: Callable[[], datetime] = utcnow,
        settle: timedelta = SETTLE,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock
        self.settle = settle
        self.lease = lease
        self._held_lock = threading.Lock()
        # The request threads' inserts go through one writer thread, a few per transaction.
        self._group = GroupInsert(db, DeliveryRow.__table__, ("platform", "shop_domain", "event_id"))
        self._claims = _ClaimStatements(db)

    # ---- intake ------------------------------------------------------------------------

    def store(self, delivery: Delivery) -> bool:
        """Keep a verified delivery. Returns False when it is a duplicate.

        Inserted with whatever other requests of this process are storing at the same moment, in one
        statement committed at once (`GroupInsert`): this runs while the store waits for our answer,
        which it gets once the row is committed."""
        return self._group.insert(delivery_row(delivery, self.clock()))

    # ---- processing --------------------------------------------------------------------

    def _claim(self, limit: int) -> list[int]:
        return [delivery_id for delivery_id, _ in self._claim_tokens(limit)]

    def _claim_tokens(self, limit: int) -> list[tuple[int, int]]:
        """Claim due deliveries: (id, claim token) pairs, the token being the claim's `attempts`."""
        now = self.clock()
        claims = self._claims
        claimed: list[tuple[int, int]] = []
        with self.db.session(background=True) as s:
            candidates = s.execute(claims.candidates, {"now": now, "limit": limit}).all()
            if not candidates:
                return claimed
            ids = [c.id for c in candidates]
            first_outside = {
                (platform, domain): first
                for platform, domain, first in s.execute(
                    claims.first_outside, {"now": now, "last": max(ids), "ids": ids}
                )
            }
            ours = [
                (delivery_id, status, attempts)
                for delivery_id, status, attempts, platform, domain in candidates
                # an earlier delivery of this shop is not ours to process first
                if delivery_id <= first_outside.get((platform, domain), delivery_id)
            ]
            if not ours:
                return claimed
            claimed = sorted(
                (delivery_id, token)
                for delivery_id, token in s.execute(
                    claims.take.statement,
                    claims.take.params(ours, now + self.lease),
                    execution_options={"synchronize_session": False},  # no rows of it are loaded here
                )
            )
        return claimed

    def renew(self, held: Mapping[int, int]) -> int:
        """Extend the claims in `held` (delivery id -> claim token) that are still ours. Returns how many."""
        if not held:
            return 0
        ours = or_(false(), *(and_(DeliveryRow.id == i, DeliveryRow.attempts == token) for i, token in held.items()))
        with self.db.session(background=True) as s:
            res = s.execute(
                update(DeliveryRow)
                .where(ours, DeliveryRow.status == "processing")
                .values(lease_until=self.clock() + self.lease)
            )
            return res.rowcount

    def process_pending(self, limit: int = 100) -> Processed:
        claims = self._claim_tokens(limit)
        if not claims:
            return Processed()
        # The heartbeat renews the claims still waiting their turn; the ones being processed are
        # locked by their own transaction (and on SQLite nothing else writes meanwhile).
        held = dict(claims)

        def beat() -> int:
            with self._held_lock:
                snapshot = dict(held)
            return self.renew(snapshot)

        outcomes: list[str] = []
        with Heartbeat(beat, heartbeat_interval(self.lease), name="inbox-heartbeat"):
            for group in self._by_shop(claims):
                with self._held_lock:
                    for delivery_id, _ in group:
                        held.pop(delivery_id, None)
                batch = self.process_batch(group) if len(group) > 1 else None
                if batch is None:  # one delivery, or the batch could not be applied whole: one at a time
                    batch = [self.process(delivery_id, token) for delivery_id, token in group]
                outcomes += batch
        return Processed(
            outcomes.count("done"), outcomes.count("dead"), outcomes.count("retry"), outcomes.count("lapsed")
        )

    def _by_shop(self, claims: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """The claims in groups of one shop each (in arrival order within a shop), at most BATCH long."""
        with self.db.read() as s:
            shop_of = {
                delivery_id: (platform, domain)
                for delivery_id, platform, domain in s.execute(
                    select(DeliveryRow.id, DeliveryRow.platform, DeliveryRow.shop_domain).where(
                        one_of(DeliveryRow.id, [delivery_id for delivery_id, _ in claims])
                    )
                )
            }
        groups: dict[tuple[str, str] | None, list[list[tuple[int, int]]]] = {}
        for claim in claims:
            runs = groups.setdefault(shop_of.get(claim[0]), [[]])
            if len(runs[-1]) >= BATCH:
                runs.append([])
            runs[-1].append(claim)
        return [run for runs in groups.values() for run in runs]

    def process_batch(self, claims: list[tuple[int, int]]) -> list[str] | None:
        """Apply one shop's claimed deliveries in arrival order in one transaction, then evaluate the
        SKUs they touched once. Returns each delivery's outcome, or None (nothing done: the caller
        processes them one at a time) when any claim lapsed, the shop is not simply active, a
        delivery is a privacy request or an uninstall, or anything failed (rolled back whole).

        The shop's deliveries are still applied in the order they arrived, under the shop's lock;
        only the evaluations in between are skipped, which decided nothing the last one does not."""
        try:
            with self.db.session(background=True) as s:
                rows = self._load_claimed(s, [delivery_id for delivery_id, _ in claims])
                if any(
                    row is None or row.status != "processing" or row.attempts != token or self.is_privacy(row)
                    for row, (_, token) in zip(rows, claims, strict=True)
                ):
                    raise _OneAtATime
                shop = find_row(s, rows[0].platform, rows[0].shop_domain)
                if shop is None or shop.status == "uninstalled":
                    raise _OneAtATime
                lock_shop(s, shop.id)
                outcomes, skus, edited, repaid = self._apply_rows(s, shop, rows)
                if skus or edited or repaid:
                    s.flush()
                    decide = {row.id for row in (*edited, *repaid) if row.id is not None}
                    evaluate(s, shop, skus, self.clock(), orders=decide)
                    edits.after_decision(s, edited)
                    limit_selling(s, shop, skus, self.clock())
            return outcomes
        except _OneAtATime:
            return None
        except Exception:  # noqa: BLE001 - rolled back; one at a time finds the culprit, retries or dead-letters it
            log.warning("a batch of %d deliveries failed; processing them one at a time", len(claims), exc_info=True)
            return None

    def _apply_rows(  # type: ignore[no-untyped-def]
        self, session, shop: ShopRow, rows: list[DeliveryRow]
    ) -> tuple[list[str], set[str], list, list]:
        """Apply each row's events: (outcomes, SKUs touched, orders edited, orders repaid)."""
        outcomes: list[str] = []
        skus: set[str] = set()
        edited: list = []
        repaid: list = []
        read: list[list[Event] | NormalisationError] = []
        for row in rows:
            try:
                read.append(self._normalise(row))
            except NormalisationError as exc:
                read.append(exc)
        prefetch_orders(session, shop.id, (e for events in read if not isinstance(events, Exception) for e in events))
        for row, events in zip(rows, read, strict=True):
            now = self.clock()
            if isinstance(events, NormalisationError):
                row.status, row.error = "dead", f"cannot be read: {events}"[:4000]
                row.lease_until, row.processed_at = None, now
                outcomes.append("dead")
                continue
            applied = apply_events(session, shop, events, now, self.settle)
            if applied.uninstalled:
                raise _OneAtATime
            skus |= applied.skus
            edited += applied.edited
            repaid += applied.repaid
            row.status, row.processed_at, row.lease_until = "done", now, None
            outcomes.append("done")
        return outcomes, skus, edited, repaid

    def _load_claimed(self, session: Session, ids: list[int]) -> list[DeliveryRow | None]:
        """The claimed deliveries, fresh from the database and locked (PostgreSQL), in the claims' order."""
        query = select(DeliveryRow).where(one_of(DeliveryRow.id, ids)).order_by(DeliveryRow.id)  # one lock order
        query = query.execution_options(populate_existing=True)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        found = {row.id: row for row in session.scalars(query)}
        return [found.get(delivery_id) for delivery_id in ids]

    def process(self, delivery_id: int, token: int | None = None) -> str:
        """Process one claimed delivery. Returns "done", "dead", "retry" or "lapsed".

        `token` is the claim's token (from `_claim_tokens`): the delivery is processed only while
        that claim is still the current one. Without it, any claim of the delivery will do."""
        try:
            with self.db.session(background=True) as s:
                # Locked for the transaction (PostgreSQL): a worker that took the delivery over
                # after our claim lapsed waits here, then finds it done.
                row = s.get(DeliveryRow, delivery_id, with_for_update=not self.db.is_sqlite, populate_existing=True)
                if row is not None and token is not None and (row.status != "processing" or row.attempts != token):
                    log.warning("delivery %s: claim lapsed and was taken over; left to its new claimant", delivery_id)
                    return "lapsed"
                if row is None or row.status == "done":
                    return "done"
                events = self._normalise(row)
                shop = find_row(s, row.platform, row.shop_domain)
                if shop is None and self.is_privacy(row):
                    # A privacy request for a shop that never connected (or was deleted): we hold nothing.
                    row.error = "honoured: no data is held for this shop"
                elif shop is None:  # the web route stores none of these; a replayed file may
                    raise NormalisationError(f"no connected shop {row.shop_domain!r} on {row.platform}")
                elif shop.status == "uninstalled" and not self.is_privacy(row):
                    row.error = "ignored: the app is uninstalled from this shop"
                else:
                    self.apply(s, shop, events)
                row.status, row.processed_at, row.lease_until = "done", self.clock(), None
            return "done"
        except NormalisationError as exc:
            return self._dead(delivery_id, f"cannot be read: {exc}", token)
        except Exception as exc:  # noqa: BLE001 - recorded, retried, then dead-lettered
            if is_permanent(exc):
                log.warning("delivery %s dead-lettered: %s: %s", delivery_id, type(exc).__name__, exc)
                return self._dead(
                    delivery_id, f"cannot be stored (retrying cannot help): {type(exc).__name__}: {exc}", token
                )
            if _is_integrity(exc):
                log.warning("delivery %s failed a database constraint: %s", delivery_id, exc)
                return self._retry(delivery_id, f"{type(exc).__name__}: {exc}", token, integrity=True)
            log.exception("delivery %s failed", delivery_id)
            return self._retry(delivery_id, f"{type(exc).__name__}: {exc}", token)

    def _adapter(self, row: DeliveryRow) -> PlatformAdapter | None:
        return self.adapters.get(Platform(row.platform))

    def is_privacy(self, row: DeliveryRow) -> bool:
        """Whether the delivery is a privacy request (its platform's `privacy_topics`)."""
        adapter = self._adapter(row)
        return adapter is not None and row.topic in adapter.privacy_topics

    def _normalise(self, row: DeliveryRow) -> list[Event]:
        adapter = self._adapter(row)
        if adapter is None:
            raise NormalisationError(f"no adapter for platform {row.platform}")
        delivery = Delivery(
            platform=Platform(row.platform),
            shop=row.shop_domain,
            topic=row.topic,
            event_id=row.event_id,
            body=row.body,
            headers=row.headers or {},
        )
        try:
            events = adapter.normaliser.normalise(delivery)
        except NormalisationError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError) as exc:
            raise NormalisationError(f"{type(exc).__name__}: {exc}") from exc
        try:
            return check_events(events)
        except OutOfBounds as exc:
            raise NormalisationError(f"out of bounds: {exc}") from None

    def apply(self, session, shop: ShopRow, events: Iterable[Event]) -> None:  # type: ignore[no-untyped-def]
        """Apply events and re-evaluate what they touched (the path reconciliation shares).

        Orders whose lines changed are decided on even when none of their SKUs still has a line."""
        lock_shop(session, shop.id)
        applied = apply_events(session, shop, events, self.clock(), self.settle)
        if (applied.skus or applied.edited or applied.repaid) and not applied.uninstalled and shop in session:
            session.flush()
            evaluate(session, shop, applied.skus, self.clock(), orders=applied.decide_ids())
            edits.after_decision(session, applied.edited)
            limit_selling(session, shop, applied.skus, self.clock())

    def evaluate_settled(self) -> int:
        """Re-evaluate the SKUs whose stock dropped a settle period ago (see `apply.SETTLE`), and move
        on the holds that drops kept going for `apply.MAX_HOLD`.

        A shop whose inbox still holds deliveries that arrived before the settle moment, untried,
        settles later: the settle period is for the orders a drop counts to arrive, and in a backlog
        they have arrived but are not applied yet (in a sale's backlog, settling on the clock alone gave
        the last report's level, counting orders still in the inbox, to the customers ahead of them).

        A hold that drops keep going (a long sale) moves on in two steps: at MAX_HOLD the last report
        becomes a checkpoint, and a settle period later, once the inbox has applied what arrived until
        then (every order the checkpoint counts), the checkpoint becomes the held level. Moving straight
        to the last report took units from customers ahead of orders still on their way (issue 13)."""
        now = self.clock()
        due = StockLevelRow.settle_at.is_not(None) & or_(
            StockLevelRow.settle_at <= now,
            StockLevelRow.held_since <= now - MAX_HOLD,
            StockLevelRow.checkpoint_until <= now,
        )
        done = 0
        with self.db.session(background=True) as s:
            shop_ids = s.scalars(select(StockLevelRow.shop_id).where(due).distinct()).all()
        for shop_id in sorted(shop_ids):
            with self.db.session(background=True) as s:
                lock_shop(s, shop_id)  # before touching its stock rows: the order every writer follows
                shop = s.get(ShopRow, shop_id)
                rows = list(s.scalars(select(StockLevelRow).where(StockLevelRow.shop_id == shop_id, due)))
                if shop is None or not rows:
                    continue
                skus = self._settle(s, shop, rows, now)
                if skus and shop.status == "active":
                    done += evaluate(s, shop, skus, now).actions
                    done += limit_selling(s, shop, skus, now).actions
        return done

    def _settle(self, session: Session, shop: ShopRow, rows: list[StockLevelRow], now: datetime) -> set[str]:
        """Settle, checkpoint or move on the shop's due stock rows; return the SKUs to evaluate again."""
        skus: set[str] = set()
        quiet = [row for row in rows if as_utc(row.settle_at) <= now]
        latest = max((as_utc(row.settle_at) for row in quiet), default=None)
        if latest is not None and not self._unapplied_before(session, shop, latest, now):
            for row in quiet:  # the held level gives way to the last report
                row.settle_at = None
                end_hold(row)
                skus.add(row.sku)
        for row in rows:
            if row.held_at is None or row.settle_at is None:
                continue
            until = as_utc(row.checkpoint_until) if row.checkpoint_until is not None else None
            if until is None and as_utc(row.held_since) <= now - MAX_HOLD:
                row.checkpoint_available, row.checkpoint_at = row.available, row.updated_at
                row.checkpoint_until = now + self.settle
            elif until is not None and until <= now and not self._unapplied_before(session, shop, until, now):
                # held_at counts the orders strictly before it (sku_queues.counted_by_store); the checkpoint,
                # the last report of its second (apply._follow_checkpoint), counts every order of that second
                counted_until = whole_second(as_utc(row.checkpoint_at)) + SECOND if row.checkpoint_at else None
                row.held_available, row.held_at, row.held_since = row.checkpoint_available, counted_until, now
                row.checkpoint_available = row.checkpoint_at = row.checkpoint_until = None
                skus.add(row.sku)
        return skus

    @staticmethod
    def _unapplied_before(session: Session, shop: ShopRow, moment: datetime, now: datetime) -> bool:
        """Whether a delivery of `shop` that arrived by `moment` is still to be applied: untried, or
        being processed under a live claim (one that failed and waits to retry holds up nothing)."""
        return session.scalar(
            select(DeliveryRow.id)
            .where(
                DeliveryRow.platform == shop.platform,
                DeliveryRow.shop_domain == shop.domain,
                DeliveryRow.received_at <= moment,
                _unfinished(now),
            )
            .limit(1)
        ) is not None

    def _ours(self, delivery_id: int, token: int | None) -> Any:
        if token is None:
            return DeliveryRow.id == delivery_id
        return and_(DeliveryRow.id == delivery_id, DeliveryRow.status == "processing", DeliveryRow.attempts == token)

    def _dead(self, delivery_id: int, reason: str, token: int | None = None) -> str:
        with self.db.session(background=True) as s:
            res = s.execute(
                update(DeliveryRow)
                .where(self._ours(delivery_id, token))
                .values(status="dead", error=reason[:4000], lease_until=None, processed_at=self.clock())
            )
            return "dead" if res.rowcount else "lapsed"

    def _retry(self, delivery_id: int, reason: str, token: int | None = None, integrity: bool = False) -> str:
        with self.db.session(background=True) as s:
            row = s.scalars(select(DeliveryRow).where(self._ours(delivery_id, token))).one_or_none()
            if row is None:
                return "lapsed" if token is not None else "dead"
            if integrity and row.attempts >= INTEGRITY_ATTEMPTS:
                # Failed the database's constraints again on a retry: the data, not a race with another writer.
                log.warning("delivery %s dead-lettered: %s", delivery_id, reason)
                row.status, row.error, row.lease_until = "dead", f"cannot be stored: {reason}"[:4000], None
                row.processed_at = self.clock()
                return "dead"
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.error, row.lease_until = (
                    "dead",
                    f"gave up after {row.attempts} attempts: {reason}",
                    None,
                )
                return "dead"
            row.status, row.error = "pending", reason[:4000]
            row.lease_until = self.clock() + backoff(row.attempts)  # not before
            return "retry"

    def replay(self, delivery_id: int) -> bool:
        """Put a dead-lettered delivery back in the queue (after the merchant or we fixed the cause);
        not one whose body a customer's redaction erased (`connector.intake.erasure`)."""
        with self.db.session() as s:
            res = s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "dead", DeliveryRow.body != b"")
                .values(status="pending", attempts=0, lease_until=None, error=None)
            )
            return res.rowcount == 1

    def depth(self) -> dict[str, int]:
        with self.db.read() as s:
            rows = s.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all()
            return {status: count for status, count in rows}


_PERMANENT = (OverflowError, ValueError, TypeError, ArithmeticError, UnicodeError, RecursionError, DataError)


def is_permanent(exc: BaseException) -> bool:
    """Whether processing the same delivery again must fail the same way: the data, not the moment.

    A value that overflows a column or has the wrong type (DataError, OverflowError, ValueError,
    TypeError), also when SQLAlchemy wraps the driver's error. An IntegrityError may be a race
    with another writer, so it is not counted here: it is retried, and dead-lettered after
    `MAX_ATTEMPTS` like any other failure. Connection and lock errors are transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, IntegrityError):
            return False
        if isinstance(current, _PERMANENT):
            return True
        if isinstance(current, StatementError) and isinstance(current.orig, BaseException):
            current = current.orig
            continue
        current = current.__cause__
    return False


def _is_integrity(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError) or isinstance(exc.__cause__, IntegrityError)
