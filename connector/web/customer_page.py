"""The customer's "Your backorder" page: reached from the signed link in every email about the order.

No account: the link is the credential (signed, 180 days; `connector.mail.links`). It shows the order
while anything in it is still to ship; once every line shipped or was cancelled, the same link (also
a forwarded one) shows the same "not available" page as a forged, altered, expired or other shop's
link, which reveals nothing. Choices are POSTs with the app's CSRF token, confirmed on a second
screen, applied once (`connector.backorders.customer_choices`).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from icalendar import Calendar, Event

from connector.backorders.customer_choices import CHOICES, apply_choice, options
from connector.bootstrap import Services
from connector.mail.links import RefundTokenError, read_order_token
from connector.web.customer_i18n import browser_locale, order_locale, render_customer, shop_accent
from connector.web.read_models.customer_reads import find_order, is_done, order_page

bp = Blueprint("customer_page", __name__)


class LinkGone(Exception):
    """The link names nothing we show (any reason: the page says the same)."""


def register(app) -> None:  # type: ignore[no-untyped-def]
    app.register_blueprint(bp)

    @app.errorhandler(LinkGone)
    def _gone(_: LinkGone) -> ResponseReturnValue:
        html = render_customer("customer/gone.html", browser_locale(request.accept_languages))
        return html, 404, {"Cache-Control": "no-store"}


def _services() -> Services:
    return current_app.extensions["connector"]


def _load(session, token: str):  # type: ignore[no-untyped-def]
    services = _services()
    try:
        claim = read_order_token(current_app.config["SECRET_KEY"], token, now=services.clock())
    except (RefundTokenError, ValueError):
        raise LinkGone() from None
    found = find_order(session, claim.platform, claim.shop, claim.order_id)
    if found is None or is_done(found[1]):
        raise LinkGone()
    return found


def _render(template: str, shop, order, **context) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    html = render_customer(
        template,
        order_locale(shop, order),
        timezone=shop.timezone,
        currency=order.currency,
        shop=shop,
        order=order,
        accent=shop_accent(shop),
        **context,
    )
    return html, 200, {"Cache-Control": "no-store"}


@bp.get("/backorder/<token>")
def page(token: str) -> ResponseReturnValue:
    services = _services()
    with services.db.session() as s:
        shop, order = _load(s, token)
        view = order_page(s, shop, order)
        found = options(s, shop, order, services.clock())
        return _render("customer/page.html", shop, order, view=view, options=found, token=token)


def _choice() -> str:
    choice = request.form.get("choice", "")
    if choice not in CHOICES:
        abort(400)
    return choice


@bp.post("/backorder/<token>/confirm")
def confirm(token: str) -> ResponseReturnValue:
    """The second screen: what the choice will do; nothing changes yet."""
    services = _services()
    choice = _choice()
    with services.db.session() as s:
        shop, order = _load(s, token)
        found = options(s, shop, order, services.clock())
        return _render("customer/confirm.html", shop, order, choice=choice, options=found, token=token)


@bp.post("/backorder/<token>/choose")
def choose(token: str) -> ResponseReturnValue:
    services = _services()
    choice = _choice()
    with services.db.session() as s:
        shop, order = _load(s, token)
        outcome = apply_choice(s, shop, order, choice, services.clock())
        view = order_page(s, shop, order)
        response = _render("customer/result.html", shop, order, outcome=outcome, view=view, token=token)
    if outcome.status == "applied":
        services.notify("drain_outbox")
    return response


@bp.get("/backorder/<token>/calendar.ics")
def calendar(token: str) -> ResponseReturnValue:
    """The waiting items' P50-P90 window as an all-day calendar event (RFC 5545, by `icalendar`)."""
    services = _services()
    with services.db.session() as s:
        shop, order = _load(s, token)
        view = order_page(s, shop, order)
        p50, p90 = view.window
        if p50 is None or p90 is None:
            abort(404)
        summary = render_customer(
            "customer/calendar_summary.txt", order_locale(shop, order), order_name=order.name, shop_name=shop.name
        ).strip()
        cal = Calendar()
        cal.add("prodid", "-//Backorder Connector//Your backorder//EN")
        cal.add("version", "2.0")
        event = Event()
        event.add("uid", f"backorder-{shop.platform}-{shop.domain}-{order.external_id}@backorder-connector")
        event.add("dtstamp", services.clock())
        event.add("dtstart", p50)
        event.add("dtend", max(p90, p50) + timedelta(days=1))  # DTEND of an all-day event is exclusive
        event.add("summary", summary)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
        body = cal.to_ical()
    filename = f"order-{''.join(ch for ch in order.name if ch.isascii() and ch.isalnum()) or 'backorder'}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
