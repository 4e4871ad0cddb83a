from datetime import date, timedelta

import pytest

from connector.domain.model import PurchaseOrder, PurchaseOrderLine
from connector.domain.planning.agility import Delivery, catch_up_days, supplier_agility
from connector.domain.planning.signals import Signal

D0 = date(2026, 3, 1)


def delivery(ordered: int, expected: int, received: int, qty: int = 10, sid: int = 1) -> Delivery:
    return Delivery(sid, D0 + timedelta(days=ordered), D0 + timedelta(days=expected), D0 + timedelta(days=received),
                    (PurchaseOrderLine("A", qty, qty),))


def test_observed_lead_time_on_time_rate_and_catch_up():
    ds = [delivery(0, 10, 10), delivery(5, 15, 19), delivery(20, 30, 28), delivery(0, 5, 6, sid=2)]
    spike = Signal("A", "spike", D0 + timedelta(days=12), 15.0, "")
    a = supplier_agility(1, ds, [spike, Signal("Z", "spike", D0, 3.0, "")])
    assert a.deliveries == 3 and a.trusted
    assert a.lead_time_mean == pytest.approx((10 + 14 + 8) / 3)
    assert a.lead_time_sd == pytest.approx(3.0551, abs=1e-3)
    assert a.on_time_rate == pytest.approx(2 / 3)
    # 15 extra units after day 12: 10 arrive on day 19, 10 more on day 28 -> caught up 16 days later
    assert a.spikes_followed == 1 and a.catch_up_days_mean == 16 and a.spikes_not_caught_up == 0


def test_a_spike_never_covered_is_counted_open():
    spike = Signal("A", "spike", D0 + timedelta(days=25), 50.0, "")
    assert catch_up_days(spike, [delivery(20, 30, 28)]) is None
    assert supplier_agility(1, [delivery(20, 30, 28)], [spike]).spikes_not_caught_up == 1


def test_no_deliveries_means_nothing_observed():
    a = supplier_agility(9, [])
    assert a.lead_time_mean is None and a.on_time_rate is None and not a.trusted


def test_delivery_from_purchase_order_and_bad_dates():
    po = PurchaseOrder(1, "shop", 4, "PO-1", D0 + timedelta(days=9), (PurchaseOrderLine("A", 5, 5),),
                       received_on=D0 + timedelta(days=8))
    d = Delivery.from_purchase_order(po, ordered_on=D0)
    assert d.lead_time_days == 8 and d.on_time and d.supplier_id == 4
    with pytest.raises(ValueError, match="not received"):
        Delivery.from_purchase_order(PurchaseOrder(1, "shop", 4, "PO-2", D0, ()), D0)
    with pytest.raises(ValueError, match="before it was ordered"):
        delivery(5, 6, 4)
