"""The customer's pages (their backorder page, the refund offer) in the customer's language.

The merchant app is English; what a shopper sees is translated with the same Babel catalogues as
the emails (``translations/``), chosen like the emails' language: the order's locale when the shop
writes to customers in it, else the shop's, else English. Dates and money are formatted by Babel
for that locale, dates in the shop's time zone. Templates use ``{% trans %}`` / ``_()`` (trimmed,
newstyle gettext: the options babel.cfg extracts with).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask import current_app, url_for
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from connector.domain.backorder_decision import email_locale
from connector.mail.i18n import ROOT, available_languages, load_translations, resolve_locale
from connector.mail.render import FILTERS
from connector.shops.shop_settings import ShopSettings

TEMPLATES = ROOT / "templates"


@lru_cache(maxsize=16)
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(load_translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(FILTERS)
    return env


def order_locale(shop: Any, order: Any) -> Locale:
    """The customer's locale for this order (as their emails), with the shop's as fallback (a shop and an order row)."""
    settings = ShopSettings.from_mapping(shop.settings)
    tag = email_locale(order.customer_locale if order else None, shop.locale, settings.email_languages)
    return resolve_locale(tag, shop.locale)


def browser_locale(accept: Any) -> Locale:
    """For pages that know no order (a bad link): the browser's best language among ours."""
    best = accept.best_match(sorted(available_languages())) if accept else None
    return resolve_locale(best)


def render_customer(
    template: str, locale: Locale, *, timezone: str = "UTC", currency: str = "EUR", **context: Any
) -> str:
    """Render a customer template in `locale`; the app's `csp_nonce`, `csrf_token` and `url_for` are at hand."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    env = _environment(locale.language)
    values = {
        "_locale": locale,
        "_zone": zone,
        "_currency": currency,
        "lang": str(locale).replace("_", "-"),
        "csp_nonce": current_app.extensions["csp_nonce"],
        "csrf_token": generate_csrf,
        "url_for": url_for,
        **context,
    }
    return env.get_template(template).render(values)


def shop_accent(shop: Any) -> str:
    """The shop's brand colour, when it is a plain hex colour (it goes into a style sheet)."""
    colour = str((shop.settings or {}).get("brand_color") or "")
    return colour if re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", colour) else "#1f6feb"
