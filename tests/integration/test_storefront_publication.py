"""Storefront values: computed per variant, published once per change (a change back is published too),
the current value when a late action runs, and nothing sent to a client that cannot publish."""

from __future__ import annotations

from sqlalchemy import select

from connector.backorders.storefront_publication import evaluate_and_publish
from connector.domain.model import ActionKind
from connector.storage.tables import ActionRow, ShopRow, StorefrontValueRow
from connector.sweeps import evaluate_all

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}


def publications(services) -> list[ActionRow]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        rows = s.scalars(select(ActionRow).where(ActionRow.kind == str(ActionKind.PUBLISH_STOREFRONT))).all()
        return [(r.payload["skus"], r.status) for r in rows]


def test_published_once_per_change_and_again_when_it_changes_back(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 1, lead_time_days=10)
    sandbox.settle()
    assert sandbox.store.products["TEE"]["storefront"]["status"] == "in_stock"
    first = publications(services)  # the product arrives before its stock: untracked, then in stock
    assert all(p == (["TEE"], "done") for p in first) and 1 <= len(first) <= 2
    for _ in range(3):  # evaluations without a change publish nothing
        with services.db.session() as s:
            evaluate_and_publish(s, s.scalar(select(ShopRow)), None, clock())
    sandbox.work()
    assert publications(services) == first
    sandbox.store.set_stock("TEE", 0)  # sells on backorder now
    sandbox.settle()
    tee = sandbox.store.products["TEE"]["storefront"]
    assert tee["status"] == "backorder" and tee["ships_by"] and tee["message"].startswith("Ships by ")
    sandbox.store.set_stock("TEE", 1)  # and back: the same value as the first, published again
    sandbox.settle()
    assert sandbox.store.products["TEE"]["storefront"]["status"] == "in_stock"
    assert publications(services) == [*first, (["TEE"], "done"), (["TEE"], "done")]
    with services.db.session() as s:
        version = s.scalar(select(StorefrontValueRow.version).where(StorefrontValueRow.sku == "TEE"))
    assert version == len(first) + 2


def test_a_late_action_publishes_the_current_value(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("MUG", "Mug", "9.00", 0, lead_time_days=10)
    services.inbox.process_pending()  # values computed and enqueued; no action has run yet
    clock.advance(minutes=1)
    services.inbox.evaluate_settled()
    with services.db.session() as s:
        stored = s.scalar(select(StorefrontValueRow.value).where(StorefrontValueRow.sku == "MUG"))
    assert stored["status"] == "backorder"
    sandbox.store.set_stock("MUG", 5)  # stock arrives before the backorder value was written
    services.inbox.process_pending()
    pending = publications(services)
    assert len(pending) >= 2 and all(status == "pending" for _, status in pending)
    services.outbox.drain(limit=1)  # only the oldest action runs: it writes the value as it is now
    assert sandbox.store.products["MUG"]["storefront"]["status"] == "in_stock"


def test_a_client_that_cannot_publish_completes_the_action_with_nothing_sent(sandbox, services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Basic:  # a store client without the `publish_storefront` capability
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            raise AttributeError(name)

    monkeypatch.setattr(services.outbox, "client_for", lambda shop_id: Basic())
    sandbox.store.add_product("CAP", "Cap", "15.00", 3)
    sandbox.work()
    assert "storefront" not in sandbox.store.products["CAP"]
    assert publications(services) and all(p == (["CAP"], "done") for p in publications(services))


def test_a_reconnected_store_gets_every_value_again(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """Shopify deletes app-owned metafields at uninstall: after a re-install every value is written anew."""
    sandbox.store.add_product("HAT", "Hat", "30.00", 2)
    sandbox.settle()
    before = len(publications(services))
    evaluate_all(services)
    sandbox.work()
    assert len(publications(services)) == before  # nothing changed: nothing written
    del sandbox.store.products["HAT"]["storefront"]  # the store lost it (uninstall) ...
    services.shops.connect("sandbox", sandbox.store.domain, name="Shop One")  # ... and installs again
    evaluate_all(services)
    sandbox.work()
    assert len(publications(services)) == before + 1
    assert sandbox.store.products["HAT"]["storefront"]["status"] == "in_stock"
