"""Which URLs may become an ``href`` or ``src``: http(s) ones and same-site paths, nothing else.

A store, a shopper or a merchant can hand us a URL (a product's permalink, a logo, a link back to
the app). Written into a page as it came, ``javascript:``, ``data:`` or ``vbscript:`` become
script on our origin. Browsers are generous about what they read as such a scheme, so the check
reads the value the way the WHATWG URL parser does before deciding:

- leading and trailing C0 controls and spaces are dropped, and tabs and newlines anywhere are
  removed (``java\\tscript:`` is ``javascript:``); the scheme is case-insensitive;
- HTML character references are decoded too (``&#106;avascript:``), in case the value reaches a
  context that decodes them; a value that is unsafe either way is refused;
- a value without a scheme is accepted only as a path on this site (``/x``). Protocol-relative
  ``//host`` and ``/\\host`` (browsers read the backslash as a slash) leave the site, and relative
  paths such as ``javascript&colon;x`` serve no purpose: both are refused;
- an absolute URL must be ``http`` or ``https`` with a host and without user info (no
  ``https://shop.example@evil.example``), and must not contain control characters.

Pure: no Flask, no I/O. `http_url` returns the cleaned value to write, or None.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EDGES = "".join(chr(c) for c in range(0x21))  # C0 controls and space, as the URL parser strips them
SAFE_SCHEMES = frozenset({"http", "https"})


def _normalised(value: str) -> str:
    return _TAB_OR_NEWLINE.sub("", value.strip(_EDGES))


def _acceptable(candidate: str) -> bool:
    if not candidate or _CONTROL.search(candidate):
        return False
    scheme = _SCHEME.match(candidate)
    if scheme is None:  # a path on this site; never one that leaves it (//host, /\host)
        return candidate.startswith("/") and candidate[1:2] not in ("/", "\\")
    if scheme.group(1).lower() not in SAFE_SCHEMES:
        return False
    try:
        parts = urlsplit(candidate.replace("\\", "/"))
        hostname = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return bool(hostname) and "@" not in parts.netloc


def http_url(value: object) -> str | None:
    """`value` cleaned, when it is an http(s) URL or a path on this site; None otherwise."""
    if not isinstance(value, str):
        return None
    cleaned = _normalised(value)
    if not _acceptable(cleaned):
        return None
    decoded = _normalised(html.unescape(cleaned))
    if decoded != cleaned and not _acceptable(decoded):
        return None
    return cleaned
