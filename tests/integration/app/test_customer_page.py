"""The customer's "Your backorder" page (issue 16), through the app as a browser would use it.

The link comes from the email the customer got (the file outbox); choices are CSRF-protected
POSTs confirmed on a second screen; each is applied once however often it is posted; bad,
expired, other-shop and finished-order links all get the same page that reveals nothing."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from connector.mail.links import OrderPageClaim, make_order_token
from connector.mail.send import list_outbox
from connector.storage.tables import ActionRow, CustomerChoiceRow, OrderRow
from tests.sandbox_helpers import Harness

GIULIA = {"id": "c9", "email": "giulia@example.it", "name": "Giulia Rossi", "locale": "it-IT", "reseller": False}
_LINK = re.compile(r"https://connector\.test(/backorder/[A-Za-z0-9._-]+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def waiting(sandbox: Harness) -> dict:
    """Giulia waits for two tees (none in stock, 10 days' lead time); her mug is in stock but held with them."""
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    sandbox.store.add_product("MUG", "Mug", "14.00", 50)
    order = sandbox.store.place_order(GIULIA, [("TEE", 2), ("MUG", 1)])
    sandbox.settle()
    return order


def email_link(services, kind: str = "backorder_confirmation") -> str:  # type: ignore[no-untyped-def]
    mails = [
        e for e in list_outbox(services.config.instance_path.parent / "mail") if e.message["X-Backorder-Kind"] == kind
    ]
    assert mails, f"no {kind} email"
    text = mails[0].message.get_body(preferencelist=("plain",)).get_content()
    match = _LINK.search(text)
    assert match, text
    return match.group(1)


def choose(client, link: str, choice: str, times: int = 1) -> list:  # type: ignore[no-untyped-def]
    """Open the page, pick `choice`, confirm it on the second screen; post the confirmation `times` times."""
    page = client.get(link).get_data(as_text=True)
    token = _CSRF.search(page).group(1)
    confirm = client.post(f"{link}/confirm", data={"csrf_token": token, "choice": choice})
    assert confirm.status_code == 200 and "data-confirm" in confirm.get_data(as_text=True)
    return [client.post(f"{link}/choose", data={"csrf_token": token, "choice": choice}) for _ in range(times)]


def calls(sandbox: Harness, action: str, order_id: str) -> list:
    return [c for c in sandbox.store.calls if c[0] == action and c[1] == order_id]


def test_the_email_links_to_the_page_in_the_customers_language(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    response = sandbox.client.get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "same-origin"  # its forms need a same-origin Referer
    assert 'lang="it-IT"' in html and "Il tuo ordine" in html
    assert "In attesa di disponibilità" in html  # the tee waits
    assert "Disponibile" in html  # the mug is in stock
    assert "data-history" in html  # the promise and why it was made
    assert "Addebitato finora: 0,00" in html  # authorized, captured when it ships


def test_ship_what_is_ready_releases_the_mug_once(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    holds_before = len(calls(sandbox, "hold", waiting["id"]))
    first, second = choose(sandbox.client, link, "ship_ready", times=2)
    sandbox.work()
    assert 'data-outcome="applied"' in first.get_data(as_text=True)
    assert 'data-outcome="already"' in second.get_data(as_text=True)
    holds = calls(sandbox, "hold", waiting["id"])[holds_before:]
    assert len(holds) == 1  # the hold moved once: only the tees stay held
    assert holds[0][2] == [f"{waiting['id']}-1"]
    with services.db.session() as s:
        assert s.query(CustomerChoiceRow).count() == 1


def test_cancel_the_waiting_lines_refunds_once(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    first, second = choose(sandbox.client, link, "cancel_waiting", times=2)
    sandbox.work()
    assert "50,00" in first.get_data(as_text=True)
    assert 'data-outcome="already"' in second.get_data(as_text=True)
    refunds = calls(sandbox, "refund", waiting["id"])
    # only authorized so far: the lines come off the order (its final capture leaves them out) and no
    # money moves; paying back 50.00 would have refunded what the customer paid for items that ship
    assert len(refunds) == 1 and refunds[0][2]["amount"] == "0.00"
    assert refunds[0][2]["lines"] == [{"line_id": f"{waiting['id']}-1", "quantity": 2}]
    with services.db.session() as s:  # once in the outbox too (the store's own dedupe is not what saves us)
        assert s.query(ActionRow).filter(ActionRow.kind == "refund_lines").count() == 1


def test_keep_waiting_changes_nothing_and_offers_the_window(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    before = list(sandbox.store.calls)
    result = choose(sandbox.client, link, "keep_waiting")[0].get_data(as_text=True)
    sandbox.work()
    assert 'data-outcome="applied"' in result
    new = sandbox.store.calls[len(before) :]
    assert [c[0] for c in new] == ["add_note"]
    ics = sandbox.client.get(f"{link}/calendar.ics")
    assert ics.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(ics.data).walk("VEVENT")))
    assert event.decoded("dtend") > event.decoded("dtstart")


def test_a_choice_no_longer_possible_changes_nothing(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    page = sandbox.client.get(link).get_data(as_text=True)
    token = _CSRF.search(page).group(1)
    sandbox.store.restock("TEE", 5)  # the tees arrive while the customer reads the confirmation
    sandbox.settle()
    before = list(sandbox.store.calls)
    result = sandbox.client.post(f"{link}/choose", data={"csrf_token": token, "choice": "cancel_waiting"})
    sandbox.work()
    assert 'data-outcome="not_possible"' in result.get_data(as_text=True)
    assert [c for c in sandbox.store.calls[len(before) :] if c[0] == "refund"] == []


def test_posts_without_the_csrf_token_are_refused(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    response = sandbox.client.post(f"{link}/choose", data={"choice": "cancel_waiting"})
    assert response.status_code == 400
    assert calls(sandbox, "refund", waiting["id"]) == []


def test_bad_links_reveal_nothing(sandbox: Harness, services, clock, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    good = sandbox.client.get(link)
    assert good.status_code == 200
    secret = services.config.secret_key
    token = link.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged = make_order_token("another-secret", OrderPageClaim("sandbox", sandbox.store.domain, waiting["id"]))
    other_shop = make_order_token(secret, OrderPageClaim("sandbox", "other-shop.sandbox", waiting["id"]))
    unknown = make_order_token(secret, OrderPageClaim("sandbox", sandbox.store.domain, "999999"))
    pages = [sandbox.client.get(f"/backorder/{t}") for t in (tampered, forged, other_shop, unknown)]
    clock.advance(days=181)
    pages.append(sandbox.client.get(link))  # expired
    bodies = {p.get_data(as_text=True).split("<main>")[1] for p in pages}
    assert [p.status_code for p in pages] == [404] * 5
    assert len(bodies) == 1  # the same page, whatever was wrong
    assert "Giulia" not in bodies.pop() and "Organic tee" not in pages[0].get_data(as_text=True)


def test_a_forwarded_link_shows_nothing_once_the_order_is_done(sandbox: Harness, services, waiting) -> None:  # type: ignore[no-untyped-def]
    link = email_link(services)
    assert sandbox.client.get(link).status_code == 200
    with services.db.session() as s:
        order = s.query(OrderRow).one()
        for line in order.lines:
            line.fulfilled_quantity = line.quantity
    response = sandbox.client.get(link)
    assert response.status_code == 404 and "Organic tee" not in response.get_data(as_text=True)


def test_the_merchant_sees_the_choice_on_the_dashboard(sandbox: Harness, services, shop_id, waiting) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.app.helpers import sign_in

    choose(sandbox.client, email_link(services), "ship_ready")
    sandbox.work()
    merchant = sandbox.client.application.test_client()
    sign_in(merchant, services, shop_id)
    html = merchant.get("/app").get_data(as_text=True)
    assert 'data-choice="ship_ready"' in html and "customer chose: ship ready" in html
    assert "1 × Mug" in html
    notes = [c for c in sandbox.store.calls if c[0] == "add_note" and "backorder page" in c[2]]
    assert len(notes) == 1  # and on the order in the store, for the merchant


@pytest.mark.parametrize("locale", ["it-IT", "de-DE", "fr-FR", "es-ES"])
def test_no_english_left_on_the_translated_page(sandbox: Harness, services, locale: str) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.mail.test_no_english_left import PHRASES

    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    sandbox.store.add_product("MUG", "Mug", "14.00", 50)
    sandbox.store.place_order({**GIULIA, "locale": locale}, [("TEE", 2), ("MUG", 1)])
    sandbox.settle()
    link = email_link(services)
    page = sandbox.client.get(link).get_data(as_text=True)
    token = _CSRF.search(page).group(1)
    screens = [page] + [
        sandbox.client.post(f"{link}/confirm", data={"csrf_token": token, "choice": c}).get_data(as_text=True)
        for c in ("ship_ready", "cancel_waiting", "keep_waiting")
    ]
    screens.append(choose(sandbox.client, link, "keep_waiting")[0].get_data(as_text=True))
    for html in screens:
        text = " ".join(re.sub(r"<style.*?</style>|<[^>]+>", " ", html, flags=re.S).split())
        assert [p for p in PHRASES if p in text] == [], text


def test_the_choices_work_over_https_where_the_csrf_check_wants_a_same_origin_referer(
    sandbox: Harness, services, waiting
) -> None:  # type: ignore[no-untyped-def]
    """On https Flask-WTF refuses a form without a same-origin Referer; the page's Referrer-Policy
    (same-origin) lets the browser send it to us, and to no one else."""
    link = email_link(services)
    https = {"base_url": "https://connector.test"}
    page = sandbox.client.get(link, **https)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "choice": "keep_waiting"}
    refused = sandbox.client.post(f"{link}/confirm", data=data, **https)
    assert refused.status_code == 400  # what a no-referrer policy would have made of every choice
    confirmed = sandbox.client.post(f"{link}/confirm", data=data, headers={"Referer": f"https://connector.test{link}"},
                                    **https)
    assert confirmed.status_code == 200 and "data-confirm" in confirmed.get_data(as_text=True)
