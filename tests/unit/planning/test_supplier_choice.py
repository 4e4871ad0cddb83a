from datetime import timedelta
from decimal import Decimal

from connector.domain.model import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierOffer, UrgentTerms
from connector.domain.planning.agility import SupplierAgility
from connector.domain.planning.plan_settings import PlanSettings
from connector.domain.planning.supplier_choice import (
    DraftLine,
    choose_supplier,
    group_drafts,
    late_backorders,
    service_dates,
    urgent_need,
)

from .conftest import AS_OF, waiting

S = PlanSettings()
FAR = Supplier(1, "shop", "Far", lead_time_mean_days=30, lead_time_spread_days=6,
               urgent=UrgentTerms(Decimal("4"), 6))
NEAR = Supplier(2, "shop", "Near", lead_time_mean_days=5, lead_time_spread_days=1, local=True)
SUPPLIERS = {1: FAR, 2: NEAR}


def agility(sid: int, on_time: float) -> SupplierAgility:
    return SupplierAgility(sid, 10, 30.0, 6.0, on_time, 0, None, 0)


def test_primary_wins_a_tie_and_an_alternative_must_be_better():
    offers = [SupplierOffer(2, "A", Decimal("10"), primary=False), SupplierOffer(2, "A", Decimal("10"))]
    choice = choose_supplier("A", offers, SUPPLIERS, S)
    assert choice.primary


def test_a_faster_alternative_wins_unless_it_costs_too_much():
    offers = [SupplierOffer(1, "A", Decimal("10")), SupplierOffer(2, "A", Decimal("10.50"), primary=False)]
    choice = choose_supplier("A", offers, SUPPLIERS, S)
    assert choice.supplier_id == 2 and not choice.primary
    assert "alternative" in choice.reason
    dear = [SupplierOffer(1, "A", Decimal("10")), SupplierOffer(2, "A", Decimal("15"), primary=False)]
    assert choose_supplier("A", dear, SUPPLIERS, S).supplier_id == 1
    assert choose_supplier("B", dear, SUPPLIERS, S) is None


def test_an_unreliable_supplier_loses_to_a_reliable_one_of_the_same_terms():
    twin = Supplier(3, "shop", "Twin", lead_time_mean_days=30, lead_time_spread_days=6)
    offers = [SupplierOffer(1, "A", Decimal("10")), SupplierOffer(3, "A", Decimal("10"), primary=False)]
    seen = {1: agility(1, 0.3), 3: agility(3, 1.0)}
    choice = choose_supplier("A", offers, {1: FAR, 3: twin}, S, seen)
    assert choice.supplier_id == 3 and choice.on_time_rate == 1.0


def test_observed_lead_time_replaces_the_declared_one_once_trusted():
    offers = [SupplierOffer(2, "A", Decimal("10"))]
    slow = {2: SupplierAgility(2, 5, 12.0, 2.0, 0.8, 0, None, 0)}
    assert choose_supplier("A", offers, SUPPLIERS, S, slow).lead_time_mean == 12.0
    few = {2: SupplierAgility(2, 2, 12.0, 2.0, 0.8, 0, None, 0)}
    assert choose_supplier("A", offers, SUPPLIERS, S, few).lead_time_mean == 5.0


def po(sku: str, qty: int, days: int) -> PurchaseOrder:
    return PurchaseOrder(1, "shop", 1, "PO", AS_OF + timedelta(days=days), (PurchaseOrderLine(sku, qty),))


def test_first_come_first_served_dates_and_late_customers():
    queue = [waiting("o2", "A", 2, 20, made_days_ago=1), waiting("o1", "A", 3, 5, made_days_ago=3),
             waiting("o3", "A", 4, 40, made_days_ago=0)]
    served = service_dates("A", 1, queue, [po("A", 4, 10)], AS_OF)
    assert [(b.order_id, d) for b, d in served] == [
        ("o1", AS_OF + timedelta(days=10)), ("o2", AS_OF + timedelta(days=10)), ("o3", None)]
    late = late_backorders(served)
    assert [b.order_id for b, _ in late] == ["o1", "o3"]


def test_urgent_terms_when_normal_terms_would_miss_the_promise():
    late = late_backorders(service_dates("A", 0, [waiting("o1", "A", 3, 10)], [], AS_OF))
    need = urgent_need("A", late, [SupplierOffer(1, "A", Decimal("10"))], SUPPLIERS, AS_OF)
    assert need.urgent_terms and need.meets_promise
    assert need.unit_cost == Decimal("14") and need.arrives_on == AS_OF + timedelta(days=6)
    assert need.quantity == 3 and need.due == AS_OF + timedelta(days=10)


def test_cheapest_option_in_time_wins_and_fastest_when_none_is():
    offers = [SupplierOffer(1, "A", Decimal("10")), SupplierOffer(2, "A", Decimal("12"), primary=False)]
    late = late_backorders(service_dates("A", 0, [waiting("o1", "A", 3, 10)], [], AS_OF))
    need = urgent_need("A", late, offers, SUPPLIERS, AS_OF)
    assert need.supplier_id == 2 and not need.urgent_terms  # 12 normal beats 10 + 4 urgent
    very_late = late_backorders(service_dates("A", 0, [waiting("o1", "A", 3, 2)], [], AS_OF))
    fastest = urgent_need("A", very_late, offers, SUPPLIERS, AS_OF)
    assert fastest.supplier_id == 2 and not fastest.meets_promise
    assert urgent_need("A", [], offers, SUPPLIERS, AS_OF) is None


def test_drafts_group_per_supplier_and_terms_and_become_purchase_orders():
    drafts = group_drafts("shop", AS_OF, [
        (1, 30, False, DraftLine("B", 5, Decimal("2"), "r")),
        (1, 28, False, DraftLine("A", 10, Decimal("3"), "r")),
        (1, 6, True, DraftLine("A", 2, Decimal("7"), "r")),
        (2, 5, False, DraftLine("C", 0, Decimal("1"), "nothing to order")),
    ])
    assert [(d.supplier_id, d.urgent, [li.sku for li in d.lines]) for d in drafts] == [
        (1, False, ["A", "B"]), (1, True, ["A"])]
    assert drafts[0].expected_on == AS_OF + timedelta(days=30)
    assert drafts[0].total_cost == Decimal("40")
    po_ = drafts[0].to_purchase_order("PLAN-1")
    assert po_.draft and po_.supplier_id == 1 and [(li.sku, li.quantity) for li in po_.lines] == [("A", 10), ("B", 5)]
    assert not drafts[0].to_purchase_order("PLAN-1", draft=False).draft
