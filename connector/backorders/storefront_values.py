"""What the store shows shoppers per variant, computed from the availability quote.

`storefront_value` turns one `SkuQuote` into the common model's `StorefrontValue`, with the
sentence in the shop's language (the gettext catalogue the emails use; dates in the shop's
locale). Its stored (and published) JSON form is `StorefrontValue.fields()`.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from connector.backorders.availability import SkuQuote, Status
from connector.domain.model import StorefrontValue
from connector.mail.i18n import load_translations, resolve_locale

PUBLISHED = (Status.IN_STOCK, Status.BACKORDER, Status.SOLD_OUT, Status.UNTRACKED)


def storefront_message(status: str, ships_by: date | None, locale_tag: str | None) -> str:
    """The sentence a shopper reads, e.g. "Ships by 1 December 2026" / "Spedizione entro il 1 dicembre 2026"."""
    locale = resolve_locale(locale_tag)
    t = load_translations(locale.language)
    if status == Status.BACKORDER and ships_by is not None:
        return t.gettext("Ships by %(date)s") % {"date": format_date(ships_by, format="long", locale=locale)}
    if status == Status.SOLD_OUT:
        return t.gettext("Sold out")
    return t.gettext("In stock")


def storefront_value(
    found: SkuQuote, product_id: str | None, variant_id: str | None, locale_tag: str | None
) -> StorefrontValue | None:
    """The value for one variant, or None when nothing is to be claimed (a SKU the shop does not have)."""
    q = found.quote
    if q.status not in PUBLISHED:
        return None
    backorder = q.status == Status.BACKORDER
    return StorefrontValue(
        sku=found.sku,
        product_id=product_id,
        variant_id=variant_id,
        status=str(q.status),
        ships_by=q.ships_by if backorder else None,
        ships_p50=q.ships_p50 if backorder else None,
        ships_p90=q.ships_p90 if backorder else None,
        message=storefront_message(q.status, q.ships_by, locale_tag),
    )
