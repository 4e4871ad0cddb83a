"""The Italian catalogue is complete and the template is not stale against the templates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from connector.mail import i18n
from connector.mail.i18n import ROOT, TRANSLATIONS_DIR, available_languages, compile_catalogue, load_translations

POT = TRANSLATIONS_DIR / "messages.pot"
LANGUAGES = sorted(available_languages() - {"en"})


def _ids(path: Path, locale: str | None = None) -> set[str]:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_italian_is_available() -> None:
    assert "it" in LANGUAGES


def test_pot_matches_a_fresh_extraction(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(fresh), "--no-location", str(ROOT)]
    )
    extracted = _ids(fresh)
    assert len(extracted) > 40
    committed = _ids(POT)
    assert extracted - committed == set(), "new strings: re-run pybabel extract (translations/README.md)"
    assert committed - extracted == set(), "strings gone from the templates are still in the .pot"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language: str) -> None:
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    assert _ids(po, language) == _ids(POT), "run pybabel update (translations/README.md)"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1)
        assert all(s.strip() for s in strings), f"untranslated: {message.id!r}"
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # placeholders agree


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language: str) -> None:
    import re

    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\((\w+)\)s", ids[-1]))
        for translated in strings[1:] or strings:
            assert set(re.findall(r"%\((\w+)\)s", translated)) == wanted, message.id


def test_the_mo_is_compiled_when_missing_or_older(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    po = copy / "it" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", copy)
    load_translations.cache_clear()
    try:
        assert load_translations("it").gettext("Hello,") == "Buongiorno,"
        assert mo.read_bytes() == compile_catalogue(po)

        # a translator edits the .po: the stale .mo is rebuilt on the next load
        po.write_text(po.read_text(encoding="utf-8").replace('"Buongiorno,"', '"Salve,"'), encoding="utf-8")
        load_translations.cache_clear()
        assert load_translations("it").gettext("Hello,") == "Salve,"
    finally:
        load_translations.cache_clear()


def test_a_read_only_install_compiles_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", copy)
    monkeypatch.setattr(i18n.tempfile, "mkstemp", refuse)
    load_translations.cache_clear()
    try:
        assert load_translations("it").gettext("Hello,") == "Buongiorno,"
        assert not (copy / "it" / "LC_MESSAGES" / "messages.mo").exists()
    finally:
        load_translations.cache_clear()
