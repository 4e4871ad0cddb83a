"""Create `.env` from `.env.example`, generating the secrets left blank (`python -m connector.envfile`)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from connector.storage.crypto import new_key

GENERATED = {"SECRET_KEY": lambda: secrets.token_urlsafe(48), "ENCRYPTION_KEY": new_key}


def write_env(example: Path, target: Path) -> list[str]:
    """Copy `example` to `target` (only when `target` is absent), filling generated secrets."""
    if target.exists():
        return []
    made: list[str] = []
    lines = []
    for line in example.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and key in GENERATED and not value.strip():
            line = f"{key}={GENERATED[key]()}"
            made.append(key)
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    return made


if __name__ == "__main__":
    example, target = (Path(a) for a in sys.argv[1:3])
    made = write_env(example, target)
    print(f"wrote {target}" + (f" with new {', '.join(made)}" if made else "") if made or target.exists() else "")
