from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from connector.domain.model import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierOffer,
    UrgentTerms,
    Variant,
)
from connector.domain.planning import DemandRecord, incoming_from_drafts, plan_shop, to_csv
from connector.domain.planning.agility import Delivery
from connector.domain.planning.dropship_choice import DROPSHIP, RESTOCK
from connector.domain.planning.plan_settings import PlanSettings

from .conftest import AS_OF, waiting

SETTINGS = PlanSettings(history_days=112, holdout_days=28, min_train_days=28, plan_periods=4)
FAR = Supplier(1, "shop", "Far", email="far@x.test", lead_time_mean_days=21, lead_time_spread_days=3,
               urgent=UrgentTerms(Decimal("2"), 4))
LOCAL = Supplier(2, "shop", "Local", lead_time_mean_days=6, lead_time_spread_days=1, dropship_capable=True,
                 local=True)
OFFERS = [SupplierOffer(1, "A", Decimal("5")), SupplierOffer(1, "B", Decimal("40")),
          SupplierOffer(2, "B", Decimal("45"), primary=False), SupplierOffer(1, "C", Decimal("3"))]


def records(seed: int = 1) -> list[DemandRecord]:
    rng = np.random.default_rng(seed)
    out = []
    for d in range(112):
        day = AS_OF - timedelta(days=112 - d)
        for sku, rate in (("A", 6.0), ("B", 0.4), ("C", 2.0)):
            q = int(rng.poisson(rate))
            if q:
                out.append(DemandRecord(sku, day, q))
    return out


def plan(**kw):
    args = dict(shop="shop", as_of=AS_OF, history=records(), suppliers=[FAR, LOCAL], offers=OFFERS,
                settings=SETTINGS)
    args.update(kw)
    return plan_shop(**args)


def test_plan_per_sku_and_draft_purchase_orders():
    p = plan(stock=[StockLevel("shop", "A", "main", 10), StockLevel("shop", "A", "back", 5),
                    StockLevel("shop", "C", "main", 200)])
    a, c = p.sku("A"), p.sku("C")
    assert a.stock == 15 and a.supplier.supplier_id == 1 and a.lead_time_mean == 21
    assert a.forecast_per_day == pytest.approx(6, rel=0.25)
    assert a.error.rmse > 0 and a.model in {"croston", "sba", "tsb", "adida", "ets", "trend_line"}
    assert a.reorder_point > a.forecast_per_day * 21 and a.safety_stock > 0
    assert a.suggested_quantity == pytest.approx(a.order_up_to - 15, abs=1)
    assert a.stockout_probability > 0.99 and a.expected_backorder_cost > 0
    assert c.suggested_quantity == 0 and c.stockout_probability < 0.01
    assert c.expected_backorder_cost == pytest.approx(0, abs=0.01)
    (draft,) = p.drafts
    assert draft.supplier_id == 1 and not draft.urgent
    assert draft.expected_on == AS_OF + timedelta(days=21)
    assert {li.sku for li in draft.lines} == {"A", "B"}
    export = next(e for e in p.exports if e.supplier.id == 1)
    rows = to_csv(export).splitlines()
    assert rows[1].startswith(f"A,{AS_OF.isoformat()},") and rows[1].endswith(f",{a.suggested_quantity}")
    assert len(rows) == 1 + 3 * SETTINGS.plan_periods


def test_open_purchase_orders_count_as_incoming_and_approved_drafts_close_the_gap():
    first = plan(stock=[StockLevel("shop", "A", "main", 0)])
    approved = incoming_from_drafts(first.drafts, [0], "PLAN")
    assert approved[0].reference == "PLAN-1" and not approved[0].draft
    second = plan(stock=[StockLevel("shop", "A", "main", 0)], purchase_orders=approved)
    assert second.sku("A").incoming == first.sku("A").suggested_quantity
    assert second.sku("A").suggested_quantity == 0
    ignored = PurchaseOrder(None, "shop", 1, "D", AS_OF, (PurchaseOrderLine("A", 500),), draft=True)
    assert plan(stock=[StockLevel("shop", "A", "main", 0)], purchase_orders=[ignored]).sku("A").incoming == 0


def test_waiting_customers_get_urgent_orders_and_cheap_lines_are_dropshipped():
    p = plan(stock=[StockLevel("shop", "A", "main", -4), StockLevel("shop", "B", "main", -1)],
             waiting=[waiting("o1", "A", 4, 7), waiting("o2", "B", 1, 30)],
             variants=[Variant("shop", "B", "B", Decimal("15"), True)])
    a = p.sku("A")
    assert a.urgent is not None and a.urgent.urgent_terms and a.urgent.quantity == 4 and a.urgent.meets_promise
    urgent = [d for d in p.drafts if d.urgent]
    assert [(d.supplier_id, d.lines[0].sku, d.lines[0].quantity) for d in urgent] == [(1, "A", 4)]
    assert urgent[0].expected_on == AS_OF + timedelta(days=4)
    normal_a = [li for d in p.drafts if not d.urgent for li in d.lines if li.sku == "A"]
    assert normal_a[0].quantity == a.suggested_quantity - 4
    routes = {r.sku: r for r in p.routes}
    assert routes["A"].route == RESTOCK and routes["A"].eta == AS_OF + timedelta(days=21)
    assert routes["B"].route == DROPSHIP and routes["B"].supplier_id == 2
    assert p.sku("B").dropshipped == 1 and p.sku("B").position == p.sku("B").incoming + 0


def test_observed_deliveries_change_the_lead_time_used():
    late = [Delivery(1, AS_OF - timedelta(days=90 - k), AS_OF - timedelta(days=69 - k),
                     AS_OF - timedelta(days=55 - k), (PurchaseOrderLine("A", 10, 10),)) for k in range(3)]
    p = plan(deliveries=late)
    assert p.sku("A").lead_time_mean == pytest.approx(35)
    assert p.agility[0].on_time_rate == 0


def test_stock_clamped_at_zero_subtracts_waiting_backorders():
    s = PlanSettings(history_days=112, holdout_days=28, min_train_days=28, plan_periods=4, stock_nets_backorders=False)
    p = plan(stock=[StockLevel("shop", "A", "main", 0)], waiting=[waiting("o1", "A", 3, 60)], settings=s)
    assert p.sku("A").stock == -3


def test_skus_without_history_or_supplier_are_planned_too():
    p = plan(history=[], stock=[StockLevel("shop", "NEW", "main", 3)], offers=[], suppliers=[])
    new = p.sku("NEW")
    assert new.model == "zero" and new.suggested_quantity == 0 and new.supplier is None
    assert p.drafts == () and p.exports == ()


def test_a_waiting_line_that_stock_on_hand_covers_is_not_dropshipped():
    p = plan(stock=[StockLevel("shop", "B", "main", 3)], waiting=[waiting("o2", "B", 1, 30)],
             variants=[Variant("shop", "B", "B", Decimal("15"), True)])
    (route,) = p.routes
    assert route.route == RESTOCK and route.eta == AS_OF and p.sku("B").dropshipped == 0
