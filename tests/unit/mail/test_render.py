from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.mail.messages import (
    AuthorizationExpiring,
    BackorderConfirmation,
    Branding,
    DelayRefundOffer,
    MailLine,
    MessageKind,
    PlannedAction,
)
from connector.mail.render import render
from tests.mail_samples import LINES, PROMISED, sample_content, sample_spec

ALL_KINDS = list(MessageKind)


@pytest.mark.parametrize("locale", ["en", "it"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_subject_text_and_html(kind: MessageKind, locale: str) -> None:
    email = render(sample_spec(kind, locale=locale))

    assert email.subject and "\n" not in email.subject
    assert "#1001" in email.subject or "#1001" in email.text
    for body in (email.text, email.html):
        assert "#1001" in body
        assert "Espresso cup" in body
    assert email.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in email.html
    assert f"<title>{email.subject}</title>" in email.html.replace("&#39;", "'")
    assert "<p" not in email.text and "<table" not in email.text and "<br>" not in email.text


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_italian_differs_from_english_in_every_kind(kind: MessageKind) -> None:
    english = render(sample_spec(kind, locale="en"))
    italian = render(sample_spec(kind, locale="it"))

    assert italian.subject != english.subject
    english_sentences = {line for line in english.text.splitlines() if len(line) > 30 and "×" not in line}
    italian_lines = set(italian.text.splitlines())
    assert not english_sentences & italian_lines, "English sentences left in the Italian email"


def test_backorder_confirmation_in_english() -> None:
    email = render(sample_spec(MessageKind.BACKORDER_CONFIRMATION, locale="en"))

    assert email.subject == "Order #1001: some items will ship by December 10, 2026"
    assert email.text.startswith("Hello Anna Rossi,\n")
    assert "2 items are not in stock right now. We have reserved them for you:" in email.text
    assert "  - 2 × Espresso cup (CUP-ESP): expected by December 10, 2026" in email.text
    assert "Your payment is authorized, but it will only be taken when these items ship." in email.text
    assert "The rest of your order ships as usual." in email.text
    assert email.locale == "en"


def test_backorder_confirmation_in_italian() -> None:
    email = render(sample_spec(MessageKind.BACKORDER_CONFIRMATION, locale="it-IT"))

    assert email.subject == "Ordine #1001: alcuni articoli partiranno entro il 10 dicembre 2026"
    assert email.text.startswith("Ciao Anna Rossi,\n")
    assert "2 articoli al momento non sono disponibili. Li abbiamo riservati per te:" in email.text
    assert "  - 2 × Espresso cup (CUP-ESP): previsto entro il 10 dicembre 2026" in email.text
    assert "Il team di Bottega Verde" in email.text
    assert email.locale == "it_IT"
    assert '<html lang="it-IT">' in email.html


def test_one_waiting_line_uses_the_singular() -> None:
    lines = (MailLine("Milk jug", 1),)
    content = BackorderConfirmation("#7", lines, PROMISED)

    assert (
        "One item is not in stock right now. We have reserved it for you:" in render(sample_spec(content=content)).text
    )
    assert (
        "Un articolo al momento non è disponibile. Lo abbiamo riservato per te:"
        in render(sample_spec(content=content, locale="it")).text
    )


@pytest.mark.parametrize(
    ("locale", "subject", "sentence"),
    [
        ("en", "Order #7: some items are on backorder", "We do not have a ship date for it yet."),  # one item: "it"
        ("it", "Ordine #7: alcuni articoli non sono ancora disponibili", "Non abbiamo ancora una data di spedizione."),
    ],
)
def test_confirmation_without_a_promised_date(locale: str, subject: str, sentence: str) -> None:
    content = BackorderConfirmation("#7", (MailLine("Milk jug", 1),), None)
    email = render(sample_spec(content=content, locale=locale))
    assert email.subject == subject
    assert sentence in email.text
    assert sentence in email.html


def test_optional_sentences_only_when_they_apply() -> None:
    content = BackorderConfirmation("#7", LINES, PROMISED)
    email = render(sample_spec(content=content))

    assert "payment" not in email.text
    assert "rest of your order" not in email.text
    assert "View your order" not in email.text + email.html


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "December 10, 2026"),
        ("en-GB", "10 December 2026"),
        ("it", "10 dicembre 2026"),
        ("it_CH", "10 dicembre 2026"),
    ],
)
def test_dates_in_the_customer_language(locale: str, expected: str) -> None:
    email = render(sample_spec(locale=locale))
    assert expected in email.subject
    assert expected in email.html


@pytest.mark.parametrize(
    ("timezone", "locale", "day", "clock"),
    [
        ("Europe/Rome", "it", "1 dicembre 2026", "00:30"),
        ("Europe/Rome", "en", "December 1, 2026", "12:30\u202fAM"),
        ("America/Los_Angeles", "en", "November 30, 2026", "3:30\u202fPM"),
        ("Asia/Tokyo", "en-GB", "1 December 2026", "08:30"),
    ],
)
def test_moments_are_shown_in_the_shop_time_zone(timezone: str, locale: str, day: str, clock: str) -> None:
    email = render(sample_spec(MessageKind.DELAY_REFUND_OFFER, timezone=timezone, locale=locale))
    assert f"{day}" in email.text
    assert clock in email.text


def test_the_zone_is_named_with_a_moment() -> None:
    email = render(sample_spec(MessageKind.DELAY_REFUND_OFFER, locale="en"))
    assert "(Central European Standard Time)" in email.text


def test_naive_datetimes_are_taken_as_utc() -> None:
    content = dataclasses.replace(
        sample_content(MessageKind.DELAY_REFUND_OFFER), offer_expires_at=datetime(2026, 11, 30, 23, 30)
    )
    email = render(sample_spec(content=content, locale="it"))
    assert "1 dicembre 2026 00:30" in email.text


def test_the_subject_date_of_a_moment_is_the_shop_calendar_day() -> None:
    rome = render(sample_spec(MessageKind.AUTHORIZATION_EXPIRING, locale="en"))
    los_angeles = render(sample_spec(MessageKind.AUTHORIZATION_EXPIRING, locale="en", timezone="America/Los_Angeles"))
    assert rome.subject.endswith("expires on December 1, 2026")
    assert los_angeles.subject.endswith("expires on November 30, 2026")


@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [
        ("en", "EUR", "€1,234.50"),
        ("it", "EUR", "1.234,50\xa0€"),
        ("en", "USD", "$1,234.50"),
        ("it", "USD", "1.234,50\xa0USD"),
    ],
)
def test_money_in_the_order_currency_and_customer_locale(locale: str, currency: str, expected: str) -> None:
    email = render(sample_spec(MessageKind.REFUND_CONFIRMATION, locale=locale, currency=currency))
    assert expected in email.text
    assert expected in email.html


def test_branding_from_the_shop() -> None:
    email = render(sample_spec())

    assert "background:#aa3311" in email.html
    assert '<img src="https://cdn.example.com/logo.png" alt="Bottega Verde"' in email.html
    assert '<a href="https://bottega.example/help"' in email.html
    assert "Help and contact: https://bottega.example/help" in email.text
    assert "The team at Bottega Verde" in email.text


def test_branding_defaults_without_logo() -> None:
    email = render(sample_spec(branding=Branding(shop_name="Plain Shop")))

    assert "<img" not in email.html
    assert ">Plain Shop</span>" in email.html
    assert "background:#1f6f5c" in email.html
    assert "Help and contact" not in email.text


def test_customer_supplied_text_is_escaped_in_html_only() -> None:
    evil = '<script>alert("x")</script> & Co'
    content = BackorderConfirmation("#1001", (MailLine(evil, 1),), PROMISED)
    email = render(sample_spec(content=content, recipient_name=evil, branding=Branding(shop_name="Tom & Jerry <Shop>")))

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in email.html
    assert "Tom &amp; Jerry &lt;Shop&gt;" in email.html
    assert f"Hello {evil}," in email.text
    assert "The team at Tom & Jerry <Shop>" in email.text


def test_locale_fallbacks() -> None:
    assert render(sample_spec(locale="pt-BR")).locale == "en"  # no Portuguese catalogue
    assert render(sample_spec(locale="xx-not-a-locale")).locale == "en"
    assert render(sample_spec(locale=None), shop_locale="it").locale == "it"
    assert render(sample_spec(locale="ja"), shop_locale="it-IT").locale == "it_IT"
    assert render(sample_spec(locale="IT")).locale == "it"
    assert render(sample_spec(locale="en_US")).locale == "en_US"


def test_no_greeting_name_without_one() -> None:
    assert render(sample_spec(recipient_name=None)).text.startswith("Hello,\n")
    assert render(sample_spec(recipient_name=None, locale="it")).text.startswith("Buongiorno,\n")


def test_refund_offer_links_and_no_new_date() -> None:
    content = dataclasses.replace(sample_content(MessageKind.DELAY_REFUND_OFFER), new_estimate_on=None)
    email = render(sample_spec(content=content))

    assert "Refund me: https://app.example/refund-offer/TOKEN/accept" in email.text
    assert "Keep my order: https://app.example/refund-offer/TOKEN/keep" in email.text
    assert 'href="https://app.example/refund-offer/TOKEN/accept"' in email.html
    assert 'href="https://app.example/refund-offer/TOKEN/keep"' in email.html
    assert "We do not have a new date from our supplier yet." in email.text
    assert "€39.90" in email.text


def test_partial_shipment_lists_what_still_waits() -> None:
    email = render(sample_spec(MessageKind.ON_ITS_WAY))
    shipped, waiting = email.text.split("These items are still waiting for stock")
    assert "Espresso cup" in shipped and "Milk jug" not in shipped
    assert "Milk jug (JUG-1): expected by December 10, 2026" in waiting


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        (PlannedAction.CAPTURE, "we will capture the payment before the authorization expires"),
        (PlannedAction.PAYMENT_REQUEST, "email the customer a request to confirm the payment again"),
        (PlannedAction.NONE, "Nothing will happen automatically"),
    ],
)
def test_merchant_warning_says_what_will_happen(action: PlannedAction, sentence: str) -> None:
    content = dataclasses.replace(sample_content(MessageKind.AUTHORIZATION_EXPIRING), planned_action=action)
    email = render(sample_spec(content=content, recipient_name=None))

    assert sentence in email.text
    assert "(Anna Rossi)" in email.text
    assert "Sent by Backorder Connector for Bottega Verde." in email.text
    assert "because you placed an order" not in email.text + email.html


def test_merchant_warning_without_customer_name() -> None:
    content = AuthorizationExpiring("#9", LINES, Decimal("5"), datetime(2026, 12, 1, 9, tzinfo=UTC), PlannedAction.NONE)
    email = render(sample_spec(content=content))
    assert "The payment authorization of €5.00 for order #9 expires on December 1, 2026" in email.text


def test_eta_change_mentions_both_dates() -> None:
    later = render(sample_spec(MessageKind.ETA_LATER, locale="it"))
    earlier = render(sample_spec(MessageKind.ETA_EARLIER))

    assert "Ora prevediamo la spedizione entro il 22 dicembre 2026, anziché entro il 10 dicembre 2026." in later.text
    assert "Ci scusiamo per l'attesa." in later.text
    assert "by December 3, 2026, earlier than the December 10, 2026 we promised." in earlier.text


def test_refund_offer_has_the_expiry() -> None:
    content = DelayRefundOffer(
        "#1",
        LINES,
        promised_on=date(2026, 12, 1),
        refund_amount=Decimal("10"),
        accept_url="https://a.example/y",
        keep_url="https://a.example/n",
        offer_expires_at=datetime(2026, 12, 15, 11, 0, tzinfo=UTC),
    )
    email = render(sample_spec(content=content, locale="it"))
    assert "Questa offerta è valida fino al 15 dicembre 2026 12:00" in email.text
