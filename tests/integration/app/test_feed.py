"""The Google Merchant Center supplemental feed of a shop: rows, token, rotation from the settings page."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from connector.storage.tables import ShopRow, VariantRow


def _feed_url(merchant) -> str:  # type: ignore[no-untyped-def]
    page = merchant.get("/app/settings").get_data(as_text=True)
    (url,) = re.findall(r'value="(https?://[^"]+/google-merchant\.tsv)"', page)
    return url.split("://", 1)[1].split("/", 1)[1]  # the path, for the test client


def test_rows_for_in_stock_backordered_and_untracked_skus(merchant, sandbox, services, shop_id, backordered) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:  # a variant whose stock the store does not count
        s.add(VariantRow(shop_id=shop_id, sku="BOWL", title="Bowl", price=Decimal(12), sells_when_out_of_stock=True))
        s.scalar(select(ShopRow).where(ShopRow.id == shop_id)).timezone = "Europe/Rome"
    path = "/" + _feed_url(merchant)
    sandbox.client.get("/app/sign-out")
    response = sandbox.client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/tab-separated-values"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "id\tavailability\tavailability_date"
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}
    assert rows["MUG"] == ["in_stock", ""]
    assert rows["BOWL"] == ["in_stock", ""]  # untracked: it ships
    status, when = rows["TEE"]
    assert status == "backorder"
    assert re.fullmatch(r"2026-11-17T00:00\+0100", when), when  # the promised day, midnight in Rome (CET)
    assert set(rows) == {"MUG", "BOWL", "TEE"}


def test_wrong_or_old_tokens_get_404_and_the_token_rotates(merchant, sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    path = "/" + _feed_url(merchant)
    assert sandbox.client.get(path).status_code == 200
    wrong = re.sub(r"/([^/]+)/google-merchant", "/not-the-token/google-merchant", path)
    assert sandbox.client.get(wrong).status_code == 404
    assert sandbox.client.get(path.replace("shop-one.sandbox", "nobody.sandbox")).status_code == 404
    token = re.search(r"/([^/]+)/google-merchant", path).group(1)
    page = merchant.get("/app/settings").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert merchant.post("/app/settings/feed/rotate", data={"csrf_token": csrf}).status_code == 302
    new_path = "/" + _feed_url(merchant)
    assert token not in new_path
    assert sandbox.client.get(path).status_code == 404
    assert sandbox.client.get(new_path).status_code == 200
    assert sandbox.client.get(new_path + "?id=nonsense").status_code == 400
