"""Where the shared, read-only project files are: real platform payloads and the Shopify schema.

CI lays `shared/` beside the clone; a developer's worktree may sit one level deeper. The
environment variable BACKORDER_SHARED_DIR overrides both."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    candidates = [os.environ.get("BACKORDER_SHARED_DIR"), REPO.parent / "shared", REPO.parent.parent / "shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "fixtures").is_dir():
            return Path(candidate)
    return None


def fixtures_dir(platform: str) -> Path:
    base = shared_dir()
    if base is None:
        raise FileNotFoundError("shared/fixtures not found beside the repository (set BACKORDER_SHARED_DIR)")
    return base / "fixtures" / platform


def load_fixture(platform: str, name: str) -> Any:
    return json.loads((fixtures_dir(platform) / name).read_text(encoding="utf-8"))
