"""Render an `EmailMessageSpec` into a subject, a plain-text body and an HTML body.

Templates live in ``templates/email/``: ``<kind>.txt`` (which also sets the ``subject``) and
``<kind>.html`` (extending ``base.html``, the branded layout). Every string is marked for
translation (``{% trans %}`` / ``_()``), translated with the recipient's language through
``jinja2.ext.i18n`` bound to a Babel catalogue, and formatted with Babel:

- ``value|date`` (``date``, or a ``datetime`` first moved into the shop's time zone),
- ``value|datetime`` (a moment, in the shop's time zone, with the zone's name),
- ``amount|money`` (in the spec's currency),

all in the recipient's locale. HTML is autoescaped; the text bodies are not (they are not HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from connector.mail.i18n import ROOT, load_translations, resolve_locale
from connector.mail.messages import EmailMessageSpec

TEMPLATES_DIR = ROOT / "templates" / "email"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locale: str  # the locale actually used, e.g. "it_IT" or "en"


def to_shop_time(value: datetime, zone: tzinfo) -> datetime:
    """A moment in the shop's time zone. A naive datetime is taken as UTC (what SQLite gives back)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


@pass_context
def _date_filter(ctx: Context, value: date | datetime | None, format: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_shop_time(value, ctx["_zone"]).date()
    return format_date(value, format=format, locale=ctx["_locale"])


@pass_context
def _datetime_filter(ctx: Context, value: datetime | None) -> str:
    """E.g. "30 novembre 2026 15:00 (Ora standard dell’Europa centrale)"."""
    if value is None:
        return ""
    locale: Locale = ctx["_locale"]
    moment = to_shop_time(value, ctx["_zone"])
    day = format_date(moment.date(), format="long", locale=locale)
    clock = format_time(moment, format="short", tzinfo=moment.tzinfo, locale=locale)
    pattern = locale.datetime_formats["long"]
    pattern = str(getattr(pattern, "pattern", pattern))
    joined = re.sub(r"'([^']*)'", r"\1", pattern).replace("{1}", day).replace("{0}", clock)
    zone_name = get_timezone_name(moment, width="long", locale=locale)
    return f"{joined} ({zone_name})"


@pass_context
def _money_filter(ctx: Context, amount: Decimal | int | None, currency: str | None = None) -> str:
    if amount is None:
        return ""
    return format_currency(amount, currency or ctx["_currency"], locale=ctx["_locale"])


@lru_cache(maxsize=16)
def _environment(language: str, templates_dir: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no stat of each file for every email sent
    )
    env.policies["ext.i18n.trimmed"] = True  # babel.cfg extracts with trimmed = true to match
    env.install_gettext_translations(load_translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(date=_date_filter, datetime=_datetime_filter, money=_money_filter)
    return env


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(spec: EmailMessageSpec, *, shop_locale: str | None = None) -> RenderedEmail:
    """Render both parts of `spec`. `shop_locale` is the fallback when the recipient's is not supported."""
    locale = resolve_locale(spec.locale, shop_locale)
    env = _environment(locale.language)
    context: dict[str, Any] = {
        "_locale": locale,
        "_zone": spec.zone,
        "_currency": spec.currency,
        "kind": spec.kind.value,
        "brand": spec.branding,
        "recipient_name": spec.recipient_name,
        "c": spec.content,
        "lang": str(locale).replace("_", "-"),
    }
    text_module = env.get_template(f"{spec.kind.value}.txt").make_module(context)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise LookupError(f"template {spec.kind.value}.txt sets no subject")
    html = env.get_template(f"{spec.kind.value}.html").render(context, subject=subject)
    return RenderedEmail(subject=subject, text=_tidy_text(str(text_module)), html=html, locale=str(locale))


# The same formatting for the customer's pages (`connector.web.customer_i18n`): each filter reads
# ``_locale``, ``_zone`` and ``_currency`` from the template's context.
FILTERS = {"date": _date_filter, "datetime": _datetime_filter, "money": _money_filter}
