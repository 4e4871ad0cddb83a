"""Re-allocating only the SKUs that dropship routing touched gives what a second full allocation gave."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from connector.backorders.evaluation import reallocate_routed
from connector.domain import engine

TODAY = date(2026, 11, 2)


def _data(seed: int) -> tuple[dict[str, engine.SkuSupply], list[engine.LineDemand]]:
    rng = random.Random(seed)
    skus = [f"SKU-{i}" for i in range(30)]
    supplies = {
        sku: engine.SkuSupply(
            rng.randint(-5, 10),
            engine.LeadTime(rng.choice((7.0, 14.0)), rng.choice((0.0, 3.0))),
            tuple(engine.Incoming(TODAY + timedelta(days=rng.randint(1, 20)), rng.randint(1, 6), f"po:{n}")
                  for n in range(rng.randint(0, 2))),
        )
        for sku in skus[:-3]  # the last three are not tracked
    }
    placed = datetime(2026, 10, 1, tzinfo=UTC)
    lines = [
        engine.LineDemand(key, 1000 + key // 3, rng.choice(skus), rng.randint(1, 5),
                          placed + timedelta(hours=rng.randint(0, 500)), rng.choice((0, 0, 0, -1)))
        for key in range(400)
    ]
    return supplies, lines


def test_partial_reallocation_equals_a_full_second_allocation() -> None:
    policy = engine.Policy(0.9, 1)
    for seed in range(20):
        supplies, lines = _data(seed)
        first = engine.allocate(supplies, lines, TODAY, policy)
        rng = random.Random(seed)
        backordered = [a for a in first.values() if a.backordered]
        picked = rng.sample(backordered, min(len(backordered), rng.randint(1, 6)))
        routed = {
            a.key: engine.Dropship(a.backordered, TODAY, engine.LeadTime(rng.choice((2.0, 5.0)), 1.0, "dropship:1"))
            for a in picked
        }
        full = engine.allocate(
            supplies, [replace(li, dropship=routed[li.key]) if li.key in routed else li for li in lines], TODAY, policy
        )
        partial = reallocate_routed(supplies, lines, first, routed, TODAY, policy)
        assert list(partial.items()) == list(full.items())  # same allocations, in the same order
        assert any(partial[k] != first[k] for k in routed)
