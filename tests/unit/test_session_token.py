"""Shopify session tokens (App Bridge id_token): what is accepted and what is refused."""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from connector.web.auth import SessionTokenError, verify_session_token

KEY, SECRET = "api-key", "shpss_" + "0123456789abcdef" * 2  # Shopify secrets are 32+ characters
SHOP = "cool-shop.myshopify.com"


def token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": "abc",
        "sid": "s1",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def hs512_token() -> str:
    """Signed with the app's own secret, but HS512: refused for the algorithm alone. (Shopify's
    32+ byte secrets are short for SHA-512, which PyJWT warns of; that is this token's point.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return token(algorithm="HS512")


def test_a_valid_token_names_the_shop() -> None:
    assert verify_session_token(token(), KEY, SECRET) == SHOP


@pytest.mark.parametrize(
    ("tok", "message"),
    [
        (lambda: token(secret="someone-else-" + "x" * 32), "invalid"),
        (lambda: token(aud="another-app"), "another app"),
        (lambda: token(exp=int(time.time()) - 60), "expired"),
        (lambda: token(nbf=int(time.time()) + 60), "not valid yet"),
        (lambda: token(dest="https://evil.example.com", iss="https://evil.example.com/admin"), "myshopify"),
        (lambda: token(dest=f"http://{SHOP}"), "https"),
        (lambda: token(iss="https://other.myshopify.com/admin"), "disagree"),
        (lambda: token(dest=None), "invalid"),
        (hs512_token, "invalid"),
        (lambda: jwt.encode({"dest": f"https://{SHOP}", "aud": KEY}, None, algorithm="none"), "invalid"),
        (lambda: "not-a-jwt", "invalid"),
    ],
)
def test_bad_tokens_are_refused(tok, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SessionTokenError, match=message):
        verify_session_token(tok(), KEY, SECRET)


def test_small_clock_skew_is_tolerated() -> None:
    assert verify_session_token(token(nbf=int(time.time()) + 3), KEY, SECRET) == SHOP


def test_without_app_credentials_nothing_is_trusted() -> None:
    with pytest.raises(SessionTokenError, match="not configured"):
        verify_session_token(token(), "", "")
