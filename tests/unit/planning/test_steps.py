"""Each step of `plan_shop`, alone, on plain values (no forecast run unless the step is the forecast)."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from connector.domain.model import (
    BackorderState,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierOffer,
    UrgentTerms,
    Variant,
)
from connector.domain.planning import steps
from connector.domain.planning.agility import Delivery
from connector.domain.planning.dropship_choice import DROPSHIP, RESTOCK
from connector.domain.planning.forecast import Forecasts
from connector.domain.planning.history import DemandHistory
from connector.domain.planning.plan_settings import PlanSettings

from .conftest import AS_OF, waiting

SETTINGS = PlanSettings(history_days=56, holdout_days=28, min_train_days=14, plan_periods=3,
                        stock_nets_backorders=False)  # stock levels count backordered units as on hand
FAR = Supplier(1, "shop", "Far", lead_time_mean_days=21, lead_time_spread_days=3, urgent=UrgentTerms(Decimal("2"), 4))
LOCAL = Supplier(2, "shop", "Local", lead_time_mean_days=6, lead_time_spread_days=1, dropship_capable=True,
                 local=True)


def history(rows: dict[str, float], days: int = 56) -> DemandHistory:
    skus = tuple(rows)
    values = np.array([[rate] * days for rate in rows.values()], dtype=float)
    return DemandHistory(skus, AS_OF - timedelta(days=days), values)


def inputs(**kw) -> steps.ShopInputs:
    args = dict(shop="shop", as_of=AS_OF, history=history({"A": 4.0, "B": 1.0}), stock=(), purchase_orders=(),
                suppliers=(FAR, LOCAL), offers=(SupplierOffer(1, "A", Decimal("5")),), waiting=(), variants=(),
                deliveries=(), settings=SETTINGS)
    args.update(kw)
    return steps.shop_inputs(**args)


def flat_forecast(skus: tuple[str, ...], rate: list[float], horizon: int, spread: float = 1.0) -> Forecasts:
    n = len(skus)
    z = np.zeros(n)
    return Forecasts(skus, np.array(["ets"] * n, dtype=object), np.array(["smooth"] * n, dtype=object),
                     np.array(rate, dtype=float)[:, None] * np.ones((n, horizon)), z, z, z, z,
                     np.full(n, spread), z)


def test_shop_inputs_keeps_open_orders_and_waiting_backorders_and_plans_every_sku_seen():
    open_po = PurchaseOrder(None, "shop", 1, "P1", AS_OF, (PurchaseOrderLine("A", 5),))
    draft = PurchaseOrder(None, "shop", 1, "P2", AS_OF, (PurchaseOrderLine("A", 5),), draft=True)
    received = PurchaseOrder(None, "shop", 1, "P3", AS_OF, (PurchaseOrderLine("A", 5),), received_on=AS_OF)
    released = waiting("o2", "A", 1, 5)
    released = type(released)(**{**{f: getattr(released, f) for f in released.__dataclass_fields__},
                                 "state": BackorderState.RELEASED})
    got = inputs(purchase_orders=[open_po, draft, received], waiting=[waiting("o1", "W", 2, 5), released],
                 stock=[StockLevel("shop", "S", "main", 3)], offers=[SupplierOffer(1, "O", Decimal("1"))])
    assert got.purchase_orders == (open_po,)
    assert [b.order_id for b in got.waiting] == ["o1"]
    assert set(got.skus) == {"A", "B", "W", "S", "O"}
    assert np.isnan(got.history.series("W")).all()  # no history yet: NaN, not zero demand
    assert got.index["A"] == 0 and got.offers["O"][0].cost == Decimal("1")


def test_agility_per_supplier_from_deliveries():
    po = PurchaseOrder(None, "shop", 2, "P", AS_OF, (PurchaseOrderLine("A", 5, 5),), received_on=AS_OF)
    d = Delivery.from_purchase_order(po, AS_OF - timedelta(days=8))
    agile = steps.agility([d])
    assert list(agile) == [2] and agile[2].lead_time_mean == 8 and agile[2].deliveries == 1
    assert steps.agility([]) == {}


def test_supply_chooses_a_supplier_and_a_variant_lead_time_wins():
    sup = steps.supply(inputs(variants=[Variant("shop", "B", "B", Decimal("9"), True, lead_time_days=3)]), {})
    assert sup.choices[0].supplier_id == 1 and sup.lead[0] == 21 and sup.lead_sd[0] == 3 and sup.unit_cost[0] == 5
    assert sup.choices[1] is None and sup.lead[1] == 3 and sup.lead_sd[1] == steps.DEFAULT_LEAD_SD


def test_horizon_covers_the_longest_lead_time_and_the_plan_periods():
    lead, sd = np.array([7.0, 21.0]), np.array([1.0, 3.0])
    assert steps.horizon_days(lead, sd, SETTINGS) == 21 + 9 + 7 + 3 * 7
    assert steps.horizon_days(np.array([1000.0]), np.array([0.0]), SETTINGS) == steps.MAX_HORIZON


def test_stock_and_incoming_nets_backorders_and_places_arrivals_by_day():
    po = PurchaseOrder(None, "shop", 1, "P", AS_OF + timedelta(days=4), (PurchaseOrderLine("A", 10, 3),))
    late = PurchaseOrder(None, "shop", 1, "L", AS_OF - timedelta(days=2), (PurchaseOrderLine("B", 6),))
    got = steps.stock_and_incoming(
        inputs(stock=[StockLevel("shop", "A", "x", 5), StockLevel("shop", "A", "y", 2)], purchase_orders=[po, late],
               waiting=[waiting("o", "A", 4, 10)]),
        horizon=30)
    assert got.net.tolist() == [3, 0] and got.waiting.tolist() == [4, 0] and got.free.tolist() == [7, 0]
    assert got.incoming.tolist() == [7, 6]
    assert got.arrivals[0, 4] == 7 and got.arrivals[1, 0] == 6 and got.arrivals.sum() == 13
    nets = steps.stock_and_incoming(inputs(stock=[StockLevel("shop", "A", "x", 5)], waiting=[waiting("o", "A", 4, 9)],
                                           settings=PlanSettings(stock_nets_backorders=True)), horizon=5)
    assert nets.net[0] == 5  # the store already took the backorders off


def test_dropship_routes_what_stock_cannot_cover_and_keeps_the_rest_waiting():
    offers = [SupplierOffer(1, "A", Decimal("5")), SupplierOffer(2, "A", Decimal("5.5"), primary=False)]
    inp = inputs(offers=offers, stock=[StockLevel("shop", "A", "x", 1)],
                 waiting=[waiting("o1", "A", 1, 10, made_days_ago=3), waiting("o2", "A", 2, 8, made_days_ago=1)],
                 variants=[Variant("shop", "A", "A", Decimal("20"), True)])
    held = steps.stock_and_incoming(inp, 40)
    got = steps.dropship(inp, np.array([21.0, 14.0]), np.array([3.0, 2.0]), held)
    by_order = {r.order_id: r for r in got.routes}
    assert by_order["o1"].route == RESTOCK and by_order["o1"].reason == "stock on hand covers it"
    assert by_order["o2"].route == DROPSHIP and got.dropshipped.tolist() == [2, 0]
    assert [b.order_id for b in got.still_waiting["A"]] == ["o1"]


def test_reorder_orders_up_to_on_the_position_and_prices_the_risk():
    inp = inputs(stock=[StockLevel("shop", "A", "x", 2), StockLevel("shop", "B", "x", 500)])
    sup = steps.supply(inp, {})
    held = steps.stock_and_incoming(inp, 60)
    fc = flat_forecast(inp.skus, [4.0, 1.0], 60)
    got = steps.reorder(fc, sup, held, np.zeros(2), inp.settings)
    assert got.position.tolist() == [2, 500]
    assert got.suggested[0] == pytest.approx(got.policy.order_up_to[0] - 2, abs=1) and got.suggested[1] == 0
    assert got.stockout_probability[0] > 0.99 and got.stockout_probability[1] < 0.01
    assert got.expected_backorder_cost[0] > 0 and got.expected_backorder_cost[1] == pytest.approx(0, abs=1e-6)


def test_urgent_needs_for_customers_who_would_miss_their_promise():
    offers = [SupplierOffer(1, "A", Decimal("5"))]
    inp = inputs(offers=offers, waiting=[waiting("o1", "A", 3, 7), waiting("o2", "A", 1, 60, line_id="2")])
    held = steps.stock_and_incoming(inp, 40)
    urgent = steps.urgent_needs(inp, held, {"A": list(inp.waiting)}, {})
    need = urgent["A"]
    assert need.supplier_id == 1 and need.urgent_terms and need.quantity >= 3
    assert need.arrives_on == AS_OF + timedelta(days=4)
    bumped = steps.with_urgent(np.array([1.0, 0.0]), urgent, inp.index)
    assert bumped[0] == need.quantity and bumped[1] == 0


def test_draft_orders_put_urgent_lines_on_their_terms_and_the_rest_on_the_supplier():
    offers = [SupplierOffer(1, "A", Decimal("5"))]
    inp = inputs(offers=offers, waiting=[waiting("o1", "A", 3, 7)])
    sup = steps.supply(inp, {})
    held = steps.stock_and_incoming(inp, 60)
    plan = steps.reorder(flat_forecast(inp.skus, [4.0, 1.0], 60), sup, held, np.zeros(2), inp.settings)
    urgent = steps.urgent_needs(inp, held, {"A": list(inp.waiting)}, {})
    suggested = steps.with_urgent(plan.suggested, urgent, inp.index)
    drafts = steps.draft_orders(inp, sup, plan, suggested, urgent)
    by_urgency = {d.urgent: d for d in drafts}
    assert by_urgency[True].lines[0].quantity == urgent["A"].quantity
    assert by_urgency[False].lines[0].quantity == int(suggested[0]) - urgent["A"].quantity
    assert "reorder point" in by_urgency[False].lines[0].reason


def test_damped_plan_shares_the_firm_order_then_damped_later_periods():
    inp = inputs(offers=[SupplierOffer(1, "A", Decimal("5")), SupplierOffer(1, "B", Decimal("2"))])
    sup = steps.supply(inp, {})
    held = steps.stock_and_incoming(inp, 60)
    fc = flat_forecast(inp.skus, [4.0, 1.0], 60)
    plan = steps.reorder(fc, sup, held, np.zeros(2), inp.settings)
    (export,) = steps.damped_plan(inp, fc, sup, plan, plan.suggested)
    assert export.supplier.id == 1 and [p.sku for p in export.items] == ["A", "B"]
    a = export.items[0]
    assert a.planned_orders[0] == a.firm_order == int(plan.suggested[0])
    assert len(a.planned_orders) == SETTINGS.plan_periods and a.forecast == (28.0, 28.0, 28.0)
    later = np.array([p.planned_orders[1:] for p in export.items], dtype=float)
    assert (later >= 0).all() and (later <= 2 * np.array([[28.0], [7.0]])).all()  # no bullwhip on a flat forecast


def test_forecasts_step_returns_the_agility_with_catch_up_once_spikes_are_known():
    inp = inputs()
    fc, agile = steps.forecasts(inp, 30, {})
    assert fc.daily.shape == (2, 30) and agile == {}
    assert fc.daily[0].mean() == pytest.approx(4.0, rel=0.05)


def test_plan_date_is_the_morning_of_as_of():
    assert inputs().as_of == date(2026, 6, 1)
