"""No English is left inside a translated email, nor on a translated customer page (issue 16).

Every kind of customer email is rendered in each language we have a catalogue for, with every
optional part switched on (charges, the page link, a partial shipment, one line and many); no
phrase of an English source string may appear in the subject, the text or the HTML. A phrase is a
run of at least three words of a message id between its placeholders, so a shop's or product's
name that happens to be English does not count, but a forgotten ``_()`` or a missing catalogue
entry does."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po

from connector.mail.i18n import TRANSLATIONS_DIR, available_languages
from connector.mail.messages import MessageKind
from connector.mail.render import render
from tests.mail_samples import LINES, sample_content, sample_spec

TRANSLATED = sorted(available_languages() - {"en"})
CUSTOMER_KINDS = [k for k in MessageKind if k != MessageKind.AUTHORIZATION_EXPIRING]


def _english_phrases() -> set[str]:
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as fh:
        catalog = read_po(fh)
    phrases: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            for part in re.split(r"%\(\w+\)s", msgid):
                words = part.strip(" .,:;").split()
                if len(words) >= 3:
                    phrases.add(" ".join(words))
    return phrases


PHRASES = _english_phrases()


def _with_everything(kind: MessageKind, lines=LINES):  # type: ignore[no-untyped-def]
    content = sample_content(kind, lines)
    extra = {}
    names = set(getattr(content, "__dataclass_fields__", {}))
    if "charged_now" in names:
        extra.update(charged_now=Decimal("14.00"), charged_later=Decimal("50.00"))
    if "order_url" in names:
        extra["order_url"] = "https://connector.example/backorder/abc"
    if "still_waiting" in names:
        extra["still_waiting"] = lines
    return replace(content, **extra)


def test_the_phrases_are_real() -> None:
    assert any(p.startswith("One item is not in stock") for p in PHRASES)
    assert len(PHRASES) > 60


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS, ids=str)
@pytest.mark.parametrize("many", [True, False], ids=["many-lines", "one-line"])
def test_no_english_in_a_translated_email(language: str, kind: MessageKind, many: bool) -> None:
    lines = LINES if many else LINES[:1]
    email = render(sample_spec(content=_with_everything(kind, lines), locale=language))
    assert email.locale.startswith(language)
    body = " ".join(re.sub(r"<[^>]+>", " ", f"{email.subject} {email.text} {email.html}").split())
    left = sorted(p for p in PHRASES if p in body)
    assert left == [], f"English left in the {language} {kind} email: {left}"


def test_the_check_catches_english() -> None:
    email = render(sample_spec(content=_with_everything(MessageKind.BACKORDER_CONFIRMATION), locale="en"))
    body = " ".join(f"{email.subject} {email.text}".split())
    assert any(p in body for p in PHRASES)


def test_every_language_of_the_issue_has_a_catalogue() -> None:
    assert {"it", "de", "fr", "es"} <= set(TRANSLATED)
