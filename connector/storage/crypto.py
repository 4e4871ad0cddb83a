"""Encryption of credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialBox:
    """Encrypts and decrypts credential dicts and secrets.

    `ENCRYPTION_KEY` may hold several comma-separated Fernet keys: the first encrypts, all
    decrypt, so keys can be rotated without losing stored credentials."""

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("no encryption key given")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except (ValueError, TypeError) as exc:
            raise ValueError("ENCRYPTION_KEY must be Fernet keys (urlsafe base64 of 32 bytes)") from exc

    def seal(self, value: dict[str, Any] | bytes | str) -> bytes:
        if isinstance(value, dict):
            value = json.dumps(value)
        raw = value.encode() if isinstance(value, str) else value
        return self._fernet.encrypt(raw)

    def open_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError("stored credentials cannot be decrypted with the configured ENCRYPTION_KEY") from exc

    def open_json(self, token: bytes) -> dict[str, Any]:
        return json.loads(self.open_bytes(token))


def new_key() -> str:
    return Fernet.generate_key().decode()
