"""Gettext catalogues for the emails: which languages we have, and loading them.

The catalogues live in ``translations/<lang>/LC_MESSAGES/messages.po`` (extracted with
``pybabel extract -F babel.cfg -o translations/messages.pot .``). English is the source
language and needs no catalogue.

How the ``.mo`` gets built: it is *not* committed (a compiled copy in git goes stale the
moment someone edits the ``.po`` and forgets to recompile). `load_translations` compiles the
``.po`` with Babel when the ``.mo`` beside it is missing or older than the ``.po``, writes it
atomically for the next process, and — when the directory is read-only — simply uses the
compiled bytes from memory. So a fresh clone, a deployment image and a translator's edit all
work without a build step; ``pybabel compile -d translations`` gives the same files.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS_DIR = ROOT / "translations"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=4)
def available_languages(directory: Path = TRANSLATIONS_DIR) -> frozenset[str]:
    """English plus every language that has a ``.po`` catalogue (looked for once per process, as
    `load_translations` loads each catalogue once: a new language needs a restart either way)."""
    found = {SOURCE_LANGUAGE}
    if directory.is_dir():
        for child in directory.iterdir():
            if (child / "LC_MESSAGES" / f"{DOMAIN}.po").is_file():
                found.add(child.name)
    return frozenset(found)


@lru_cache(maxsize=512)
def resolve_locale(tag: str | None, fallback: str | None = None) -> Locale:
    """The locale to format and translate with (remembered per tag pair: every email resolves one).

    Accepts BCP 47 ("it-IT") or POSIX ("it_IT") tags. The region is kept for formatting
    (en-GB dates read "30 November 2026"); the language must have a catalogue, otherwise
    `fallback` (e.g. the shop's locale) is tried, then English.
    """
    languages = available_languages()
    for candidate in (tag, fallback):
        locale = _parse(candidate)
        if locale is not None and locale.language in languages:
            return locale
    return Locale.parse(SOURCE_LANGUAGE)


def _parse(tag: str | None) -> Locale | None:
    if not tag or not tag.strip():
        return None
    text = tag.strip().replace("-", "_")
    for attempt in (text, text.split("_")[0].lower()):
        try:
            return Locale.parse(attempt)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return None


def compile_catalogue(po_path: Path) -> bytes:
    """The ``.mo`` bytes of one ``.po`` file (fuzzy entries left out, as ``pybabel compile`` does)."""
    locale = po_path.parent.parent.name
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _compiled_bytes(po_path: Path) -> bytes:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.is_file() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return mo_path.read_bytes()
    data = compile_catalogue(po_path)
    try:
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, prefix=".messages-", suffix=".mo")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, mo_path)
    except OSError as exc:  # read-only install: the in-memory copy serves
        log.info("could not write %s (%s); using the catalogue compiled in memory", mo_path, exc)
    return data


@lru_cache(maxsize=16)
def load_translations(language: str) -> NullTranslations:
    """The translations for one language (English, or an unknown one: the identity)."""
    po_path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == SOURCE_LANGUAGE or not po_path.is_file():
        return NullTranslations()
    return Translations(io.BytesIO(_compiled_bytes(po_path)), domain=DOMAIN)
