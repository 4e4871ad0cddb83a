"""The allocation engine on plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from connector.domain.engine import (
    Dropship,
    Incoming,
    LeadTime,
    LineAllocation,
    LineDemand,
    Policy,
    SkuSupply,
    allocate,
    allocate_sku,
    lead_eta,
    position,
    reach,
)

TODAY = date(2026, 11, 2)
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
LEAD = LeadTime(mean_days=10, spread_days=0)


def line(key: int, qty: int, minutes: int = 0, sku: str = "A", **kw) -> LineDemand:  # type: ignore[no-untyped-def]
    return LineDemand(key=key, order_key=key, sku=sku, quantity=qty, placed_at=T0 + timedelta(minutes=minutes), **kw)


def by_key(allocations):  # type: ignore[no-untyped-def]
    return {a.key: (a.in_stock, a.backordered) for a in allocations}


def test_first_come_first_served_regardless_of_input_order() -> None:
    # 5 units physically there: the store reports 5 - (3 + 4) = -2 available.
    supply = SkuSupply(available=-2, lead_time=LEAD)
    lines = [line(2, 4, minutes=5), line(1, 3, minutes=0)]
    assert by_key(allocate_sku(supply, lines, TODAY)) == {1: (3, 0), 2: (2, 2)}


def test_partial_line_gets_what_is_left_and_an_eta_for_the_rest() -> None:
    [only] = allocate_sku(SkuSupply(available=-3, lead_time=LEAD), [line(1, 5)], TODAY)
    assert (only.in_stock, only.backordered) == (2, 3)
    assert only.eta_p50 == only.eta_p90 == only.promised_on == TODAY + timedelta(days=10)
    assert only.source == "lead_time"


def test_negative_stock_beyond_open_lines_backorders_everything() -> None:
    # available -10 with only 4 units open: the store oversold elsewhere; nothing ships.
    result = by_key(allocate_sku(SkuSupply(available=-10, lead_time=LEAD), [line(1, 1), line(2, 3, 1)], TODAY))
    assert result == {1: (0, 1), 2: (0, 3)}


def test_cancellation_releases_stock_to_the_next_line() -> None:
    supply = SkuSupply(available=-1, lead_time=LEAD)  # 3 units there, 4 ordered
    before = by_key(allocate_sku(supply, [line(1, 2), line(2, 2, 1)], TODAY))
    assert before == {1: (2, 0), 2: (1, 1)}
    # Line 1 is cancelled: the store restocks its 2 units (available -1 -> 1) and it leaves the open lines.
    after = by_key(allocate_sku(SkuSupply(available=1, lead_time=LEAD), [line(2, 2, 1)], TODAY))
    assert after == {2: (2, 0)}


def test_cancellation_before_the_restock_arrives_changes_nothing_yet() -> None:
    after = by_key(allocate_sku(SkuSupply(available=-1, lead_time=LEAD), [line(2, 2, 1)], TODAY))
    assert after == {2: (1, 1)}


def test_incoming_purchase_orders_cover_in_arrival_order_then_lead_time() -> None:
    supply = SkuSupply(
        available=-6,
        lead_time=LeadTime(20, 0),
        incoming=(Incoming(date(2026, 11, 20), 2, "po:2"), Incoming(date(2026, 11, 10), 3, "po:1")),
    )
    result = allocate_sku(supply, [line(1, 2), line(2, 2, 1), line(3, 2, 2)], TODAY)
    assert [(a.backordered, a.promised_on, a.source) for a in result] == [
        (2, date(2026, 11, 10), "po:1"),
        (2, date(2026, 11, 20), "po:2"),  # one unit from po:1, the last from po:2: ships when the last arrives
        (2, TODAY + timedelta(days=20), "lead_time"),  # po:2 has one unit left; the rest needs a new order
    ]


def test_promise_is_the_chosen_quantile_of_the_lead_time() -> None:
    supply = SkuSupply(available=-1, lead_time=LeadTime(mean_days=10, spread_days=4))
    [a] = allocate_sku(supply, [line(1, 1)], TODAY, Policy(promise_quantile=0.9))
    assert a.eta_p50 == TODAY + timedelta(days=10)
    assert a.eta_p90 == TODAY + timedelta(days=16)  # 10 + 1.2816 * 4 = 15.13 -> rounded up
    assert a.promised_on == a.eta_p90
    [median] = allocate_sku(supply, [line(1, 1)], TODAY, Policy(promise_quantile=0.5))
    assert median.promised_on == median.eta_p50


def test_handling_days_are_added_to_every_eta() -> None:
    supply = SkuSupply(available=-1, lead_time=LEAD, incoming=(Incoming(date(2026, 11, 5), 1, "po:1"),))
    [a] = allocate_sku(supply, [line(1, 1)], TODAY, Policy(handling_days=2))
    assert a.promised_on == date(2026, 11, 7)


def test_restock_eta_is_counted_from_when_the_line_started_waiting() -> None:
    supply = SkuSupply(available=-1, lead_time=LEAD)
    waiting_since = TODAY - timedelta(days=3)
    [a] = allocate_sku(supply, [line(1, 1, waiting_since=waiting_since)], TODAY)
    assert a.promised_on == waiting_since + timedelta(days=10)  # not today + 10: the date does not creep


def test_overdue_purchase_order_keeps_its_date() -> None:
    supply = SkuSupply(available=-1, lead_time=LEAD, incoming=(Incoming(TODAY - timedelta(days=2), 1, "po:9"),))
    [a] = allocate_sku(supply, [line(1, 1)], TODAY)
    assert a.promised_on == TODAY - timedelta(days=2)  # overdue is reported, not hidden


def test_expedited_order_goes_first() -> None:
    supply = SkuSupply(available=-2, lead_time=LEAD)  # 2 there, 4 ordered
    result = by_key(allocate_sku(supply, [line(1, 2), line(2, 2, 10, priority=-1)], TODAY))
    assert result == {1: (0, 2), 2: (2, 0)}


def test_uncommitted_lines_do_not_count_as_on_hand() -> None:
    # A pending (unpaid) WooCommerce order has not reduced stock yet: 1 reported + 1 committed = 2 there.
    supply = SkuSupply(available=1, lead_time=LEAD)
    result = by_key(allocate_sku(supply, [line(1, 1), line(2, 2, 1, committed=False)], TODAY))
    assert result == {1: (1, 0), 2: (1, 1)}


def test_untracked_sku_always_ships() -> None:
    result = allocate({}, [line(1, 5, sku="GIFT")], TODAY)
    assert (result[1].in_stock, result[1].backordered) == (5, 0)


def test_allocate_groups_by_sku() -> None:
    supplies = {"A": SkuSupply(-1, LEAD), "B": SkuSupply(0, LEAD)}
    result = allocate(supplies, [line(1, 1, sku="A"), line(2, 1, sku="B"), line(3, 1, 1, sku="A")], TODAY)
    assert {k: (a.in_stock, a.backordered) for k, a in result.items()} == {1: (1, 0), 2: (1, 0), 3: (0, 1)}


def test_available_to_promise() -> None:
    supply = SkuSupply(available=-3, lead_time=LEAD, incoming=(Incoming(TODAY, 10, "po:1"),))
    pos = position(supply, [line(1, 5)])
    assert (pos.on_hand, pos.committed, pos.incoming) == (2, 5, 10)
    assert pos.available_to_promise == 7


@given(
    available=st.integers(-50, 50),
    quantities=st.lists(st.integers(1, 10), min_size=1, max_size=30),
)
def test_allocation_invariants(available: int, quantities: list[int]) -> None:
    lines = [line(i, q, minutes=i) for i, q in enumerate(quantities)]
    result = allocate_sku(SkuSupply(available, LEAD), lines, TODAY)
    on_hand = available + sum(quantities)
    assert sum(a.in_stock for a in result) == min(max(on_hand, 0), sum(quantities))
    for a, q in zip(result, quantities, strict=True):
        assert a.in_stock + a.backordered == q
        assert (a.promised_on is not None) == (a.backordered > 0)
    # first come first served: once a line waits, no later line takes stock
    waited = False
    for a in result:
        if waited:
            assert a.in_stock == 0
        waited = waited or a.backordered > 0


def test_allocations_are_plain_line_allocations() -> None:
    # The hot loop builds allocations without the dataclass __init__; they must be indistinguishable.
    supply = SkuSupply(available=-1, lead_time=LEAD, incoming=(Incoming(date(2026, 11, 5), 1, "po:1"),))
    result = allocate({"A": supply}, [line(1, 1), line(2, 1, 1), line(3, 1, 2, sku="GIFT")], TODAY)
    assert result == {
        1: LineAllocation(1, 1, "A", 1, 0),
        2: LineAllocation(2, 2, "A", 0, 1, date(2026, 11, 5), date(2026, 11, 5), date(2026, 11, 5), "po:1"),
        3: LineAllocation(3, 3, "GIFT", 1, 0),
    }
    assert hash(result[1]) == hash(LineAllocation(1, 1, "A", 1, 0))


def test_large_evaluation_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    lines = [line(i, 1, minutes=i, sku=f"S{i % 100}") for i in range(12_000)]  # above the pause threshold
    supplies = {f"S{i}": SkuSupply(available=-50, lead_time=LEAD) for i in range(100)}
    assert gc.isenabled()
    result = allocate(supplies, lines, TODAY)
    assert gc.isenabled()
    assert sum(a.in_stock for a in result.values()) == 100 * 70  # 120 lines per SKU, 70 units there
    gc.disable()
    try:
        allocate(supplies, lines, TODAY)
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


DROP = LeadTime(mean_days=3, spread_days=0, source="dropship:7")


def test_routed_units_take_no_stock_and_follow_the_dropship_lead_time() -> None:
    # 1 unit on hand (available 1 - 3 committed = -2); line 1 wants 3, of which 2 were routed to dropship.
    supply = SkuSupply(available=-2, lead_time=LEAD, incoming=(Incoming(TODAY + timedelta(days=20), 5, "po:1"),))
    routed = line(1, 3, dropship=Dropship(2, TODAY - timedelta(days=1), DROP))
    [a] = allocate_sku(supply, [routed], TODAY)
    assert (a.in_stock, a.backordered) == (1, 2)
    assert a.promised_on == TODAY + timedelta(days=2)  # routed yesterday, 3 days' lead time
    assert a.source == "dropship:7"


def test_routed_units_leave_stock_and_incoming_to_the_next_lines() -> None:
    supply = SkuSupply(available=-4, lead_time=LEAD, incoming=(Incoming(TODAY + timedelta(days=5), 2, "po:1"),))
    first = line(1, 3, dropship=Dropship(3, TODAY, DROP))
    second = line(2, 3, minutes=5)
    out = {a.key: a for a in allocate_sku(supply, [first, second], TODAY)}
    assert (out[2].in_stock, out[2].backordered) == (2, 1)  # the 2 on hand went to the second line
    assert out[2].source == "po:1" and out[2].promised_on == TODAY + timedelta(days=5)
    assert out[1].source == "dropship:7" and out[1].promised_on == TODAY + timedelta(days=3)


def test_a_line_partly_routed_waits_for_the_later_of_both() -> None:
    supply = SkuSupply(available=-5, lead_time=LEAD)  # nothing on hand
    [a] = allocate_sku(supply, [line(1, 5, dropship=Dropship(2, TODAY, DROP))], TODAY)
    assert (a.in_stock, a.backordered) == (0, 5)
    assert a.promised_on == TODAY + timedelta(days=10) and a.source == "lead_time"


@given(
    available=st.integers(-20, 20),
    quantities=st.lists(st.integers(1, 6), min_size=1, max_size=25),
    committed=st.lists(st.booleans(), min_size=25, max_size=25),
    waited=st.lists(st.integers(0, 9), min_size=25, max_size=25),
    batches=st.lists(st.integers(0, 8), max_size=3),
    cut=st.integers(0, 25),
)
def test_past_the_reach_a_line_waits_the_lead_time_and_a_head_allocates_as_the_whole_queue(
    available: int, quantities: list[int], committed: list[bool], waited: list[int], batches: list[int], cut: int
) -> None:
    """What sku_queues relies on: (1) a line with `reach` units of open quantity ranked before it gets
    no stock and no incoming unit, only the lead time from its waiting day; (2) the lines ranked
    first, given the store's count of the others as `committed_elsewhere`, and with any of the lines
    past the reach after them, are allocated as in the whole queue."""
    incoming = tuple(Incoming(TODAY + timedelta(days=3 + i), q, f"po:{i}") for i, q in enumerate(batches))
    supply = SkuSupply(available, LEAD, incoming)
    policy = Policy(0.9, 1)
    lines = [line(i, q, minutes=i, committed=committed[i], waiting_since=TODAY - timedelta(days=waited[i]))
             for i, q in enumerate(quantities)]
    whole = {a.key: a for a in allocate_sku(supply, lines, TODAY, policy)}
    units = reach(supply, sum(li.quantity for li in lines if li.committed))
    before = 0
    for li in lines:
        if before >= units:
            a = whole[li.key]
            p50, p90, promised = lead_eta(li.waiting_since or TODAY, LEAD, policy)
            assert (a.in_stock, a.backordered, a.eta_p50, a.eta_p90, a.promised_on, a.source) == (
                0, li.quantity, p50, p90, promised, LEAD.source)
        before += li.quantity
    # the head (every line the reach gets to, or more) and any of the lines past it
    befores = [sum(li.quantity for li in lines[:i]) for i in range(len(lines))]
    cut = max(cut, sum(1 for b in befores if b < units))
    read = lines[:cut] + [li for li in lines[cut:] if li.key % 2 == 0]
    elsewhere = sum(li.quantity for li in lines if li.committed and li not in read)
    part = allocate_sku(SkuSupply(available, LEAD, incoming, committed_elsewhere=elsewhere), read, TODAY, policy)
    assert part == [whole[li.key] for li in read]
