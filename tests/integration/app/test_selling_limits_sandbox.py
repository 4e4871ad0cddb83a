"""Selling limits on the sandbox store (what `make run` uses), through the settings page and the sweep:
the store stops selling an item whose next unit would wait too long, a longer longest wait set on
the settings page gives selling back, and the periodic sweep stops it again when the wait is shortened."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from connector.storage.tables import ActionRow, SellingStopRow
from connector.sweeps import evaluate_all
from tests.integration.app.conftest import CUSTOMER
from tests.integration.app.helpers import post
from tests.integration.app.test_settings_page import VALID
from tests.sandbox_helpers import Harness


def _stop(services) -> tuple[str, str, int] | None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        row = s.scalar(select(SellingStopRow).where(SellingStopRow.sku == "TEE"))
        return (row.state, row.reason, row.switches) if row else None


def test_sandbox_selling_follows_the_longest_wait(sandbox: Harness, merchant, services, shop_id: int) -> None:
    settings = services.shops.settings(shop_id)
    services.shops.update_settings(shop_id, dataclasses.replace(settings, longest_wait_days=30))
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=60)  # sea freight
    sandbox.store.add_product("MUG", "Mug", "14.00", 50)
    sandbox.store.add_product("CAP", "Cap", "9.00", 0, sells_when_out_of_stock=False, lead_time_days=60)
    sandbox.settle()
    products = sandbox.store.products
    assert products["TEE"]["sells_when_out_of_stock"] is False
    assert products["MUG"]["sells_when_out_of_stock"] is True and products["CAP"]["sells_when_out_of_stock"] is False
    assert _stop(services) == ("stopped", "wait_too_long", 1)
    assert [c[:2] for c in sandbox.store.calls if c[0] == "set_selling"] == [("set_selling", "TEE")]
    assert "Selling limits" in merchant.get("/app/").get_data(as_text=True)  # the menu
    # a shopper cannot buy TEE on backorder any more: the sandbox refuses what the store does not sell
    try:
        sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    except Exception as exc:  # noqa: BLE001 - the sandbox's own refusal
        assert "TEE" in str(exc) or "stock" in str(exc)
    else:
        raise AssertionError("TEE must not sell on backorder")

    # the merchant allows waits of up to 90 days on the settings page: TEE sells again, CAP stays off
    form = {**VALID, "longest_wait_days": "90"}
    assert post(merchant, "/app/settings", form).status_code == 302
    sandbox.work()
    assert products["TEE"]["sells_when_out_of_stock"] is True and products["CAP"]["sells_when_out_of_stock"] is False
    assert _stop(services) == ("resumed", "within_limits", 1)

    # shortened again without an evaluation: the periodic sweep stops TEE (a new switch, a new action)
    services.shops.update_settings(shop_id, dataclasses.replace(services.shops.settings(shop_id), longest_wait_days=20))
    assert evaluate_all(services) >= 1
    sandbox.work()
    assert products["TEE"]["sells_when_out_of_stock"] is False and _stop(services) == ("stopped", "wait_too_long", 2)
    with services.db.session() as s:
        keys = sorted(s.scalars(select(ActionRow.idempotency_key).where(ActionRow.kind == "set_backorder_selling")))
    assert [k.rsplit(":", 2)[1:] for k in keys] == [["1", "resume"], ["1", "stop"], ["2", "stop"]]

    # the settings page refuses a nonsense wait and keeps the setting
    bad = post(merchant, "/app/settings", {**VALID, "longest_wait_days": "0"})
    assert bad.status_code == 422 and 'data-field="longest_wait_days"' in bad.get_data(as_text=True)
    assert services.shops.settings(shop_id).longest_wait_days == 20

    # an empty field turns the longest wait off: what we stopped sells again
    assert post(merchant, "/app/settings", {**VALID, "longest_wait_days": ""}).status_code == 302
    sandbox.work()
    assert services.shops.settings(shop_id).longest_wait_days is None
    assert products["TEE"]["sells_when_out_of_stock"] is True and _stop(services) == ("resumed", "within_limits", 2)
    assert products["CAP"]["sells_when_out_of_stock"] is False


def test_the_selling_limits_page_needs_a_signed_in_merchant_and_a_csrf_token(
    sandbox: Harness, merchant, services, shop_id: int
) -> None:
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0)
    sandbox.settle()
    assert merchant.post("/app/selling-limits", data={"sku": "TEE", "max_units": "2"}).status_code == 400
    fresh = sandbox.client.application.test_client()
    answer = fresh.get("/app/selling-limits")
    assert answer.status_code == 302 and "/app/sign-in" in answer.headers["Location"]
    assert fresh.post("/app/selling-limits", data={"sku": "TEE", "max_units": "2"}).status_code in (400, 401)
    page = merchant.get("/app/selling-limits").get_data(as_text=True)
    assert 'data-limit-sku="TEE"' not in page and "No SKU has a limit" in page
