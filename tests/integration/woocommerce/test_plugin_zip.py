"""`make woocommerce-plugin`'s zip: what WordPress's "Upload Plugin" takes, the same bytes every time."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest

_BUILD = Path(__file__).resolve().parents[3] / "plugins" / "woocommerce" / "build.py"
_spec = importlib.util.spec_from_file_location("woocommerce_plugin_build", _BUILD)
assert _spec is not None and _spec.loader is not None
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)
SOURCE, build = builder.SOURCE, builder.build


def test_the_zip_holds_the_plugin_folder_and_is_the_same_every_time(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, second = tmp_path / "a" / "backorder-connector.zip", tmp_path / "b" / "backorder-connector.zip"
    names = build(first)
    build(second)
    assert first.read_bytes() == second.read_bytes()
    assert not first.with_suffix(".zip.part").exists()
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == names == sorted(names)
        assert all(name.startswith("backorder-connector/") for name in names)
        for required in ("backorder-connector.php", "uninstall.php", "readme.txt", "includes/eta.php"):
            assert f"backorder-connector/{required}" in names
        main = archive.read("backorder-connector/backorder-connector.php")
        assert main == (SOURCE / "backorder-connector.php").read_bytes()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_tests_and_hidden_files_stay_out(tmp_path: Path) -> None:
    source = tmp_path / "backorder-connector"
    for name in ("backorder-connector.php", "tests/test-hooks.php", ".git/config", "includes/a.php", "x.php~"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("<?php\n")
    names = build(tmp_path / "out.zip", source)
    assert names == ["backorder-connector/backorder-connector.php", "backorder-connector/includes/a.php"]


@pytest.mark.parametrize("epoch", ["0", "1764500000"])
def test_source_date_epoch_sets_the_timestamps(tmp_path: Path, monkeypatch, epoch: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    build(tmp_path / "p.zip")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert stamps == ({(1980, 1, 1, 0, 0, 0)} if epoch == "0" else {(2025, 11, 30, 10, 53, 20)})
