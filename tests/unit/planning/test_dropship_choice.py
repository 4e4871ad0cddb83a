from datetime import timedelta
from decimal import Decimal

import pytest

from connector.domain.model import Supplier, SupplierOffer
from connector.domain.planning.dropship_choice import DROPSHIP, RESTOCK, BackorderedLine, route_line
from connector.domain.planning.plan_settings import PlanSettings

from .conftest import AS_OF

S = PlanSettings(dropship_value_threshold=20, dropship_large_shortage=10, dropship_margin_days=3)
SEA = Supplier(1, "shop", "Sea", lead_time_mean_days=40, lead_time_spread_days=5, dropship_capable=True)
LOCAL = Supplier(2, "shop", "Local", lead_time_mean_days=8, lead_time_spread_days=1, dropship_capable=True,
                 local=True)
WAREHOUSE = Supplier(3, "shop", "Warehouse", lead_time_mean_days=10, lead_time_spread_days=1)
SUPPLIERS = {1: SEA, 2: LOCAL, 3: WAREHOUSE}


def line(qty: int = 1, price: str = "50") -> BackorderedLine:
    return BackorderedLine("o1", "l1", "A", qty, Decimal(price))


def route(ln: BackorderedLine, restock_days: int | None, offers: list[SupplierOffer]):
    eta = None if restock_days is None else AS_OF + timedelta(days=restock_days)
    return route_line(ln, eta, eta, offers, SUPPLIERS, S, AS_OF)


LOCAL_OFFER = [SupplierOffer(2, "A", Decimal("30"))]


def test_no_dropship_supplier_keeps_the_restock_route_and_eta():
    r = route(line(), 12, [SupplierOffer(3, "A", Decimal("30"))])
    assert r.route == RESTOCK and r.eta == AS_OF + timedelta(days=12) and r.supplier_id is None


@pytest.mark.parametrize(("ln", "restock_days", "why"), [
    (line(price="19.99"), 9, "under threshold"),
    (line(qty=10), 9, "large shortage"),
    (line(), 11, "3 days before restock"),
])
def test_each_rule_alone_routes_to_dropship_with_its_eta(ln, restock_days, why):
    r = route(ln, restock_days, LOCAL_OFFER)
    assert r.route == DROPSHIP and r.supplier_id == 2 and why in r.reason
    assert r.eta == AS_OF + timedelta(days=8) and r.eta_p90 == AS_OF + timedelta(days=9)


def test_no_rule_holds_keeps_restock():
    r = route(line(qty=9, price="20"), 10, LOCAL_OFFER)  # margin 2 days < 3
    assert r.route == RESTOCK and r.eta == AS_OF + timedelta(days=10)
    assert "no advantage" in r.reason


def test_local_supplier_preferred_over_a_long_sea_lead_time():
    r = route(line(price="5"), 60, [SupplierOffer(1, "A", Decimal("20")), SupplierOffer(2, "A", Decimal("30"))])
    assert r.supplier_id == 2 and "local" in r.reason


def test_per_offer_lead_time_counts():
    r = route(line(), 30, [SupplierOffer(1, "A", Decimal("20"), lead_time_days=12)])
    assert r.route == DROPSHIP and r.eta == AS_OF + timedelta(days=12)
