"""The shopper's refund offer page: the link in the delay email leads here; a click (POST) decides."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from connector.backorders.refunds import OfferError, answer_offer, load_offer
from connector.bootstrap import Services
from connector.mail.links import RefundTokenError, read_refund_token
from connector.web.customer_i18n import order_locale, render_customer, shop_accent
from connector.web.read_models.order_reads import offer_order_and_shop

bp = Blueprint("offers", __name__)
TOKEN_MAX_AGE = timedelta(days=90)  # the offer's own expiry (days, from settings) is checked in the database


def _load(services: Services, session, token: str):  # type: ignore[no-untyped-def]
    try:
        claim = read_refund_token(current_app.config["SECRET_KEY"], token, TOKEN_MAX_AGE, now=services.clock())
        return load_offer(session, claim.shop, claim.order_id, int(claim.offer_id))
    except (RefundTokenError, OfferError, ValueError):
        abort(404)


@bp.route("/offers/<token>", methods=["GET", "POST"])
def offer(token: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    choice = request.values.get("choice", "")
    error = None
    outcome = None
    with services.db.session() as s:
        row = _load(services, s, token)
        order, shop = offer_order_and_shop(s, row.order_id, row.shop_id)
        if request.method == "POST":
            try:
                outcome = answer_offer(s, row, choice, services.clock())
            except OfferError as exc:
                error = str(exc)
        expired = services.clock() >= row.expires_at
        html = render_customer(
            "offers/offer.html",
            order_locale(shop, order),
            timezone=shop.timezone,
            currency=row.currency,
            accent=shop_accent(shop),
            offer=row,
            order=order,
            shop=shop,
            choice=choice,
            outcome=outcome,
            error=error,
            expired=expired,
            token=token,
        )
    if outcome is not None:
        services.notify("drain_outbox")
    return html, (400 if error else 200)
