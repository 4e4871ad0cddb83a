"""The schema set-up fetches `@shopify/dev-mcp` with npm when the shared copy is absent.

A stand-in `npm` on PATH packs a tarball shaped like the real package, so the extraction is tested
without the registry."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tests import shopify_schema


def fake_npm(bin_dir: Path, log: Path) -> None:
    payload = gzip.compress(b'{"data": {"__schema": {}}}')
    tarball = bin_dir / "template.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        info = tarfile.TarInfo("package/dist/data/admin_2026-10.json.gz")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\ncp "{tarball}" ./shopify-dev-mcp-1.16.0.tgz\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_fetches_the_schema_with_npm_pack_when_no_copy_is_beside(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm.log"
    fake_npm(bin_dir, log)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SHOPIFY_ADMIN_SCHEMA", raising=False)
    monkeypatch.setattr(shopify_schema, "shared_dir", lambda: None)
    monkeypatch.setattr(shopify_schema, "CACHE_DIR", tmp_path / "cache")

    path = shopify_schema.schema_path()
    assert path == tmp_path / "cache" / "admin_2026-10.json.gz"
    assert gzip.decompress(path.read_bytes()) == b'{"data": {"__schema": {}}}'
    assert log.read_text().split() == ["pack", "@shopify/dev-mcp@1.16.0", "--silent"]
    assert shopify_schema.schema_path() == path and len(log.read_text().splitlines()) == 1  # cached
