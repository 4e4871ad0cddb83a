"""Builds the WooCommerce plugin's zip (``make woocommerce-plugin`` -> dist/backorder-connector.zip).

The zip is what WordPress's "Upload Plugin" takes: one folder, ``backorder-connector/``, with the
plugin's files. It is deterministic: entries sorted, one fixed timestamp (SOURCE_DATE_EPOCH when
set, else 1980-01-01), fixed permissions, so the same sources always give the same bytes. Tests,
hidden files and editor leftovers are left out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "backorder-connector"
EXCLUDED_DIRS = frozenset({"tests", "test", "node_modules", "vendor-dev", "__pycache__"})
EXCLUDED_SUFFIXES = (".orig", ".rej", ".swp", "~", ".bak")


def plugin_files(source: Path = SOURCE) -> list[Path]:
    """The files that go into the zip, relative to `source`, sorted."""
    chosen = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if EXCLUDED_DIRS.intersection(relative.parts[:-1]) or path.name.endswith(EXCLUDED_SUFFIXES):
            continue
        chosen.append(relative)
    return sorted(chosen, key=lambda p: p.as_posix())


def build(target: Path, source: Path = SOURCE) -> list[str]:
    """Writes the zip to `target`; returns the names of its entries."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, the earliest a zip holds
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.part")
    names = []
    with zipfile.ZipFile(partial, "w") as archive:
        for relative in plugin_files(source):
            name = f"{source.name}/{relative.as_posix()}"
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, so the permissions above are read as such
            archive.writestr(info, (source / relative).read_bytes(), compresslevel=9)
            names.append(name)
    partial.replace(target)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="dist/backorder-connector.zip", type=Path)
    args = parser.parse_args(argv)
    names = build(args.target)
    print(f"{args.target}: {len(names)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
