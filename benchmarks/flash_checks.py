"""The flash sale's correctness checks and its report (tables printed, and written with the chart).

The checks compare the service's final state with an independent replay of the same orders through
the pure engine (`connector.domain.engine.allocate`) over the stock Shopify had before the sale."""

from __future__ import annotations

import argparse
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flash_measure import backlog_svg
from flash_workload import Workload

from connector.domain import engine

NEVER = {"TagsRemove", "FulfillmentOrderReleaseHold", "MetafieldsDelete"}
# The operations that add our tag: alone, or starting an order's wait (which reads the order too); and
# those that hold: alone, or with the date in the start's second call.
TAGGING = {"TagsAdd", "OrderBackorderStart"}
HOLDING = {"FulfillmentOrderHold", "OrderBackorderHoldAndDate"}
TAGGED, HELD = "tagged", "held"


def _decision(operation: str) -> str:
    return TAGGED if operation in TAGGING else HELD if operation in HOLDING else operation


@dataclass
class Check:
    name: str
    value: str
    ok: bool


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def replay(workload: Workload, state: dict[str, Any]) -> tuple[dict[int, engine.LineAllocation], dict]:
    """The same orders, allocated once by the pure engine with every order known and counted."""
    order_by_id = {oid: (ext, placed) for oid, ext, placed in state["orders"]}
    sold: Counter = Counter()
    for order in workload.orders:
        for line in order.lines:
            sold[line.sku] += line.quantity
    supplies = {sku: engine.SkuSupply(workload.stock[sku] - sold[sku], engine.LeadTime(30.0))
                for sku in workload.skus}
    demand = [engine.LineDemand(lid, oid, sku, qty, order_by_id[oid][1].astimezone(UTC), committed=True)
              for lid, oid, sku, qty in state["lines"]]
    return engine.allocate(supplies, demand, date.today()), {sku: workload.stock[sku] - sold[sku]
                                                             for sku in workload.skus}


def correctness(workload: Workload, figures: dict) -> tuple[list[Check], dict[str, Any]]:
    state = figures["state"]
    expected, final_stock = replay(workload, state)
    waiting = {lid: qty for lid, st, qty in state["backorders"] if st == "waiting"}
    order_of = {lid: oid for lid, oid, _, _ in state["lines"]}
    ext_of = {oid: ext for oid, ext, _ in state["orders"]}
    placed = {oid: p for oid, _, p in state["orders"]}
    sku_of = {lid: sku for lid, _, sku, _ in state["lines"]}
    qty_of = {lid: q for lid, _, _, q in state["lines"]}
    checks: list[Check] = []

    mismatched = [lid for lid, a in expected.items() if waiting.get(lid, 0) != a.backordered]
    checks.append(Check("every line as the replay through the pure engine decides it",
                        f"{len(expected) - len(mismatched):,} of {len(expected):,} lines agree", not mismatched))
    # FIFO by order time, ties aside: no line waits while a line placed later of its SKU got stock
    late_served = 0
    by_sku: dict[str, list[int]] = defaultdict(list)
    for lid in qty_of:
        by_sku[sku_of[lid]].append(lid)
    over = []
    for sku, lids in by_sku.items():
        served = [placed[order_of[lid]] for lid in lids if qty_of[lid] - waiting.get(lid, 0) > 0]
        waits = [placed[order_of[lid]] for lid in lids if waiting.get(lid, 0) > 0]
        if served and waits:
            late_served += sum(1 for p in served if p > min(waits))
        units = sum(qty_of[lid] - waiting.get(lid, 0) for lid in lids)
        if units > workload.stock[sku]:
            over.append(f"{sku}: {units} of {workload.stock[sku]}")
    checks.append(Check("FIFO: no line got stock while an earlier-placed line of its SKU waits",
                        f"{late_served} later lines served first", late_served == 0))
    checks.append(Check("no unit promised twice (units shipping now <= units on hand, per SKU)",
                        "; ".join(over) or f"all {len(by_sku)} SKUs within their stock", not over))
    wrong_stock = {sku: (n, final_stock[sku]) for sku, n in state["stock"].items() if n != final_stock[sku]}
    checks.append(Check("final stock = what Shopify reported last (late and re-sent reports ignored)",
                        ", ".join(f"{s}: {a} not {b}" for s, (a, b) in sorted(wrong_stock.items())) or "all SKUs",
                        not wrong_stock))

    backordered_orders = {str(ext_of[a.order_key]) for a in expected.values() if a.backordered}
    all_orders = {o.order_id for o in workload.orders}
    calls = figures["store_calls"]
    per_order = Counter((c.order_id, _decision(c.operation)) for c in calls if c.mutation)
    decided_twice = [o for o in all_orders for op in (TAGGED, HELD)
                     if per_order[(o, op)] != (1 if o in backordered_orders else 0)]
    charged_twice = [o for o in all_orders if per_order[(o, "OrderCapture")] > 1]
    checks.append(Check("no order charged twice", f"{len(charged_twice)} orders", not charged_twice))
    failed_actions = sum(n for kind, status, n in state["actions"] if status not in ("done", "cancelled"))
    checks.append(Check("every store call and email done or superseded unsent (none failed or dead)",
                        f"{failed_actions} not done", failed_actions == 0))
    undone = sum(1 for c in calls if c.operation in NEVER)
    checks.append(Check("every order decided once: one tag and one hold per waiting order, none for the others",
                        f"{len(backordered_orders):,} waiting orders, {len(decided_twice)} wrong counts",
                        not decided_twice))
    checks.append(Check("no decision taken back (no tag removed, hold released, ETA deleted)", f"{undone} calls",
                        undone == 0))
    email_of = {o.order_id: o.email.lower() for o in workload.orders}
    mails = Counter(rcpt for _, rcpt, _ in figures["mail"])
    wrong_mail = [o for o in all_orders if mails[email_of[o]] != (1 if o in backordered_orders else 0)]
    ids = Counter(mid for _, _, mid in figures["mail"])
    checks.append(Check("every email sent once (one per waiting order, none to the others, no Message-ID twice)",
                        f"{sum(mails.values()):,} emails, {len(wrong_mail)} wrong counts, "
                        f"{sum(n - 1 for n in ids.values())} repeated",
                        not wrong_mail and max(ids.values(), default=1) == 1))
    promised_twice = sum(1 for n in state["promises"].values() if n != 1)
    checks.append(Check("each waiting line promised a date once", f"{promised_twice} lines with more",
                        promised_twice == 0))
    executed, mismatches = figures["store_answers"]
    checks.append(Check("the fake shop's fast answers as graphql-core's executor makes them (on a sample)",
                        f"{executed:,} compared, {len(mismatches)} differ" + (f": {mismatches[0][:300]}" if mismatches
                                                                               else ""), not mismatches))
    return checks, {"backordered": backordered_orders, "all": all_orders, "email_of": email_of}


def latencies(figures: dict, orders: dict[str, Any]) -> dict[str, list[float]]:
    received = figures["state"]["received"]
    first_call: dict[str, float] = {}
    for c in figures["store_calls"]:
        if c.order_id is not None:
            first_call[c.order_id] = min(c.at, first_call.get(c.order_id, c.at))
    first_mail: dict[str, float] = {}
    for at, rcpt, _ in figures["mail"]:
        first_mail[rcpt] = min(at, first_mail.get(rcpt, at))
    to_call = [first_call[o] - received[o] for o in orders["backordered"] if o in first_call and o in received]
    to_mail = [first_mail[orders["email_of"][o]] - received[o] for o in orders["backordered"]
               if orders["email_of"][o] in first_mail and o in received]
    return {"first store call": to_call, "email": to_mail}


def report(args: argparse.Namespace, workload: Workload, ceiling: Any, figures: dict, reconcile: dict,
           load_before: tuple[float, float, float], load_after: tuple[float, float, float], tmp: Path) -> int:
    checks, orders = correctness(workload, figures)
    sent = figures["sent"]
    lat = latencies(figures, orders)
    unique = len(workload.sends) - workload.resent
    state = figures["state"]
    stored = sum(n for status, topic, n in state["deliveries"]) - len(workload.catalogue)
    dead = sum(n for status, topic, n in state["deliveries"] if status == "dead")
    checks[:0] = [
        Check("every webhook answered 200 (at the latest when sent again, as Shopify does)",
              f"{sent.statuses.get(200, 0):,} of {len(workload.sends):,}; refused first: "
              f"{sum(n for k, n in sent.statuses.items() if isinstance(k, str)):,}",
              sent.statuses.get(200, 0) == len(workload.sends)),
        Check("stored = sent - re-sent (nothing lost, nothing twice)", f"{stored:,} = {unique:,}", stored == unique),
        Check("nothing dead-lettered", f"{dead}", dead == 0),
    ]
    drain = figures["drained_at"] - figures["burst_end"]
    p99_call = percentile(lat["first store call"], 0.99)
    p99_mail = percentile(lat["email"], 0.99)
    targets = [
        Check(f"decision latency p99 (to the first store call) < {10:.0f} s", f"{p99_call:.1f} s", p99_call < 10),
        Check(f"decision latency p99 (to the email) < {10:.0f} s", f"{p99_mail:.1f} s", p99_mail < 10),
        Check("backlog back to zero within 30 s of the burst", f"{drain:.1f} s", drain <= 30),
    ]
    lines = render(args, workload, ceiling, figures, reconcile, lat, checks, targets, load_before, load_after,
                   drain)
    print("\n".join(lines))
    if args.results is not None:
        svg = args.results.with_name("flash-sale-backlog.svg")
        svg.write_text(backlog_svg(figures["samples"], figures["burst_end"],
                                   f"Backlog during a flash sale of {len(workload.orders):,} orders"))
        args.results.write_text("\n".join(lines) + "\n")
        print(f"\nwritten: {args.results} and {svg}")
    failed = [c.name for c in checks if not c.ok]
    missed = [c.name for c in targets if not c.ok] if not args.quick else []
    for name in failed:
        print(f"CORRECTNESS VIOLATED: {name}", file=os.sys.stderr)
    for name in missed:
        print(f"TARGET MISSED: {name}", file=os.sys.stderr)
    if failed or missed:
        print(f"logs kept in {tmp}", file=os.sys.stderr)
    print("FLASH SALE CHECKS: " + ("PASSED" if not failed else "FAILED"))
    return 1 if failed or missed else 0


def render(args, workload, ceiling, figures, reconcile, lat, checks, targets, load_before, load_after,  # type: ignore[no-untyped-def]
           drain) -> list[str]:
    sent = figures["sent"]
    n_orders = len(workload.orders)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    full = (n_orders, args.seconds) == (20_000, 120.0)
    size = "quick" if args.quick else "full" if full else "custom"
    options = " --quick" if args.quick else "" if full else f" --orders {n_orders} --seconds {args.seconds:g}"
    out = [f"# Flash sale on the production shape ({size} size, {stamp})", "",
           f"`python benchmarks/flash_sale.py{options}`: {n_orders:,} orders of "
           f"{args.skus} SKUs ({sum(workload.stock.values()):,} units on hand) in {args.seconds:.0f} s, "
           f"{len(workload.sends):,} signed webhooks ({workload.resent:,} sent again, 5 % late) from "
           f"{args.clients} clients; two gunicorn web processes (1 worker x 8 threads each), two Celery workers "
           f"(prefork, {args.worker_concurrency} processes each), one scheduler, PostgreSQL, Redis, aiosmtpd, "
           f"the fake shop. {os.cpu_count()} CPUs; load "
           f"average {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f} before, "
           f"{load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} after.", ""]
    burst_s = figures["burst_end"]
    ceiling_rate = len(workload.sends) / ceiling.seconds
    stored_rate = (len(workload.sends)) / sent.seconds
    out += ["## Intake", "", "| | per second | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|",
            f"| bare Flask view, same two web processes, unpaced (ceiling) | {ceiling_rate:,.0f} | "
            f"{ceiling.percentile(0.5) * 1000:.1f} | {ceiling.percentile(0.99) * 1000:.1f} | "
            f"{max(ceiling.latencies) * 1000:.1f} |",
            f"| the app during the burst (paced: offered {len(workload.sends) / args.seconds:,.0f}/s) | "
            f"{stored_rate:,.0f} | {sent.percentile(0.5) * 1000:.1f} | {sent.percentile(0.99) * 1000:.1f} | "
            f"{max(sent.latencies) * 1000:.1f} |", "",
            f"Senders fell behind schedule by p99 {percentile(sent.lateness, 0.99) * 1000:.0f} ms "
            f"(max {max(sent.lateness, default=0) * 1000:.0f} ms).", ""]
    out += ["## Decision latency (waiting orders: webhook stored -> the order's first store call, and -> its email)",
            "",
            "| to | orders | p50 s | p99 s | max s |", "|---|---|---|---|---|"]
    for name, values in lat.items():
        out.append(f"| {name} | {len(values):,} | {percentile(values, 0.5):.2f} | {percentile(values, 0.99):.2f} | "
                   f"{max(values, default=float('nan')):.2f} |")
    out += ["", "## Backlog", "", "![backlog](flash-sale-backlog.svg)", "",
            f"Burst {burst_s:.1f} s; backlog (inbox, outbox, settling stock) back to zero "
            f"{drain:.1f} s after it. Peak inbox {max((s.inbox for s in figures['samples']), default=0):,}, "
            f"peak outbox {max((s.outbox for s in figures['samples']), default=0):,}.", ""]
    total_time = figures["drained_at"]
    out += ["## CPU per process", "", "| process | CPU s during the burst | CPU s until drained | "
            "share of one core (until drained) |", "|---|---|---|---|"]
    for name, (during, until) in figures["cpu"].items():
        out.append(f"| {name} | {during:.1f} | {until:.1f} | {until / total_time:.0%} |")
    pg = figures["pg"]
    n = n_orders
    out += ["", "## Per order", "", "| what | total | per order |", "|---|---|---|",
            f"| PostgreSQL transactions committed | {pg['commits']:,.0f} | {pg['commits'] / n:.1f} |",
            f"| rows inserted / updated / deleted | {pg['inserted']:,.0f} / {pg['updated']:,.0f} / "
            f"{pg['deleted']:,.0f} | {pg['inserted'] / n:.1f} / {pg['updated'] / n:.1f} / {pg['deleted'] / n:.1f} |",
            f"| WAL written | {pg['wal_bytes'] / 1e6:,.1f} MB | {pg['wal_bytes'] / n / 1e3:.1f} kB |",
            f"| database size after the sale | {figures['db_bytes'] / 1e6:,.1f} MB | |"]
    tables = sorted(((k[6:], v) for k, v in pg.items() if k.startswith("table:") and v), key=lambda kv: -kv[1])
    out.append(f"| row writes by table | {', '.join(f'{t} {v:,.0f}' for t, v in tables[:8])} | |")
    calls = figures["store_calls"]
    ops = Counter(c.operation for c in calls)
    cost = Counter()
    for c in calls:
        cost[c.operation] += c.cost
    waiting = len({c.order_id for c in calls if c.operation in TAGGING})
    out += ["", f"## Shopify Admin API ({waiting:,} waiting orders)", "",
            "| operation | calls | cost points requested / actual (Shopify's rules) | per waiting order |",
            "|---|---|---|---|"]
    actual = Counter()
    for c in calls:
        actual[c.operation] += c.actual
    for op, k in sorted(ops.items(), key=lambda kv: -kv[1]):
        out.append(f"| {op} | {k:,} | {cost[op]:,} / {actual[op]:,} | {k / max(waiting, 1):.2f} calls, "
                   f"{cost[op] / max(waiting, 1):.1f} / {actual[op] / max(waiting, 1):.1f} points |")
    total_cost, total_actual = sum(cost.values()), sum(actual.values())
    out.append(f"| **all** | {sum(ops.values()):,} | {total_cost:,} / {total_actual:,} | "
               f"{total_cost / max(waiting, 1):.1f} / {total_actual / max(waiting, 1):.1f} points |")
    out += ["", f"One reconciliation afterwards ({reconcile['seconds']:.1f} s): "
            + ", ".join(f"{op} x{k}" for op, k in sorted(reconcile["calls"].items()))
            + f"; {reconcile['cost']:,} cost points requested, {reconcile['actual']:,} actual (the fake shop answers "
            "each list in one page).", ""]
    out += ["## Checks", "", "| check | result | met |", "|---|---|---|"]
    for c in checks:
        out.append(f"| {c.name} | {c.value} | {'yes' if c.ok else '**NO**'} |")
    for c in targets:
        met = "n/a (quick)" if args.quick else ("yes" if c.ok else "**NO**")
        out.append(f"| target: {c.name} | {c.value} | {met} |")
    return out
