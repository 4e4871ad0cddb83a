"""The promotion calendar through the merchant app: entered on the planning page, checked, used by the
next planning run (the promotion's days leave the baseline and its uplift comes back on the days to
come), removed, and kept to its own shop."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from connector.storage.tables import PromotionRow, SkuPlanRow
from tests.integration.app.helpers import connect_shop, post
from tests.integration.app.test_planning_pages import add_history

TODAY = date(2026, 11, 2)  # the test clock's day


def _tee_forecast(services) -> list[float]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return list(s.scalar(select(SkuPlanRow.forecast).where(SkuPlanRow.sku == "TEE")))


def test_a_known_promotion_leaves_the_baseline_and_lifts_the_promotion_days_to_come(
    merchant, services, shop_id
) -> None:  # type: ignore[no-untyped-def]
    daily = [2] * 90
    for k in range(20, 27):  # a week-long sale, 64..70 days before today: five times the usual demand
        daily[k] = 10
    add_history(services, shop_id, "TEE", daily, TODAY)
    sale_start, sale_end = TODAY - timedelta(days=70), TODAY - timedelta(days=64)

    assert post(merchant, "/app/planning/run").status_code == 302
    without = _tee_forecast(services)

    for name, first, last in (("Autumn sale", sale_start, sale_end),
                              ("Black Friday", TODAY + timedelta(days=3), TODAY + timedelta(days=5))):
        response = post(merchant, "/app/planning/promotions", {"name": name, "starts_on": first.isoformat(),
                                                               "ends_on": last.isoformat(), "skus": "TEE"})
        assert response.status_code == 302, response.get_data(as_text=True)
    page = merchant.get("/app/planning").get_data(as_text=True)
    assert 'data-promotion="Black Friday"' in page and 'data-promotion="Autumn sale"' in page

    assert post(merchant, "/app/planning/run").status_code == 302
    with_calendar = _tee_forecast(services)
    usual = with_calendar[0]
    assert 1.5 <= usual <= 2.5  # the sale's week is not in the baseline
    assert usual <= without[0]
    assert all(with_calendar[d] >= 3.5 * usual for d in (3, 4, 5))  # the uplift comes back on the sale days
    assert with_calendar[6] < 1.5 * usual and without[3] < 1.5 * without[0]


def test_a_wrong_promotion_is_refused_with_the_reason_and_nothing_is_stored(merchant, services) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"name": "Sale", "starts_on": "2026-12-05", "ends_on": "2026-12-01"}, "end on or after"),
        ({"name": "Sale", "starts_on": "2026-12-01", "ends_on": "2026-12-03", "skus": "NOT-A-SKU"},
         "not SKUs of this shop: NOT-A-SKU"),
        ({"name": "Sale", "starts_on": "2026-12-01", "ends_on": "2027-06-01"}, "at most 92 days"),
        ({"name": "Sale", "starts_on": "2029-01-01", "ends_on": "2029-01-02"}, "366 days after today"),
        ({"name": "", "starts_on": "2026-12-01", "ends_on": "2026-12-02"}, "give the promotion a name"),
        ({"name": "Sale", "starts_on": "01/12/2026", "ends_on": "2026-12-02"}, "Not a valid date"),
    ]
    for data, message in cases:
        response = post(merchant, "/app/planning/promotions", data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), (data, message)
    assert merchant.post("/app/planning/promotions", data={"name": "No token", "starts_on": "2026-12-01",
                                                            "ends_on": "2026-12-02"}).status_code == 400
    with services.db.session() as s:
        assert s.scalars(select(PromotionRow)).all() == []


def test_a_promotion_is_removed_only_by_its_own_shop(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    other = connect_shop(services, "other.example")
    with services.db.session() as s:
        theirs = PromotionRow(shop_id=other, name="Theirs", starts_on=TODAY, ends_on=TODAY, skus=[],
                              created_at=services.clock())
        s.add(theirs)
        s.flush()
        theirs_id = theirs.id
    assert "Theirs" not in merchant.get("/app/planning").get_data(as_text=True)
    assert post(merchant, f"/app/planning/promotions/{theirs_id}/remove").status_code == 404
    assert post(merchant, "/app/planning/promotions", {"name": "Ours", "starts_on": "2026-12-01",
                                                       "ends_on": "2026-12-02"}).status_code == 302
    with services.db.session() as s:
        ours = s.scalar(select(PromotionRow.id).where(PromotionRow.shop_id == shop_id))
    assert merchant.post(f"/app/planning/promotions/{ours}/remove").status_code == 400  # no CSRF token
    assert post(merchant, f"/app/planning/promotions/{ours}/remove").status_code == 302
    with services.db.session() as s:
        assert [r.name for r in s.scalars(select(PromotionRow))] == ["Theirs"]
