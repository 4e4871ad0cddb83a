"""Outbound requests to addresses a merchant typed: only to public hosts on the internet.

A merchant (or anyone: the connect form is anonymous) types a store address and the service
calls it. Without a guard that is server-side request forgery: the service would call its own
loopback, the private network it runs in or the cloud metadata address on the caller's behalf.

`AddressPolicy.check_ip` says which addresses may be called: those Python's `ipaddress` calls
*global* and that are not multicast. Every address a name resolves to must pass (a name with one
private address among public ones is refused). With ``allow_private`` (development only:
``ALLOW_PRIVATE_STORE_ADDRESSES``) loopback and private-network addresses pass too — a WordPress
next to the service or in a container — but link-local (cloud metadata at 169.254.169.254),
multicast, unspecified and reserved addresses never do.

`guarded_session` gives a `requests.Session` whose connections do the check **at connect time**:
the connection resolves the host itself, checks every address and connects to the checked
address. What is checked is what is connected to, so a name that resolves to a public address
for a pre-check and to 127.0.0.1 a moment later (DNS rebinding) gains nothing; a redirect, were
one followed, would be checked the same way because it opens a new connection. The session
ignores proxy settings from the environment (the proxy would be what is connected to).

`check_url` is the same test without a connection, for a clear early refusal (the connect form):
the scheme, and the host when it is an IP address in any spelling the resolver accepts
(``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``). It does not resolve names (the address
is checked again, with resolution, when the service connects).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from adapters.base import StoreError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[tuple[Any, ...]]]
"""(host, port) -> `socket.getaddrinfo`-shaped tuples (family, type, proto, canonname, sockaddr)."""


class AddressRefused(StoreError):
    """The address is not one the service may call (not http(s), or not a public internet host).

    A `StoreError` that no retry can fix: from the outbox, the action fails for good."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def _system_resolver(host: str, port: int) -> Sequence[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def parse_ip(text: str) -> IPAddress | None:
    """The IP address a host name spells, in any spelling the C resolver accepts, or None for a name."""
    host = text.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        pass
    try:
        # inet_aton takes the old BSD spellings: 2130706433, 0x7f000001, 0177.0.0.1, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False  # development: loopback and private networks too
    resolve: Resolver = _system_resolver

    def check_ip(self, ip: IPAddress) -> None:
        """Raise `AddressRefused` unless the service may connect to `ip`."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if ip.is_multicast or ip.is_unspecified or ip.is_link_local:
            raise AddressRefused(f"{ip} is not a public internet address")
        if self.allow_private and (ip.is_loopback or ip.is_private):
            return
        if ip.is_global and not ip.is_reserved:
            return
        raise AddressRefused(f"{ip} is not a public internet address")

    def resolve_checked(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """Resolve `host` and check every address it has; the address tuples to connect to."""
        try:
            infos = list(self.resolve(host, port))
        except UnicodeError as exc:
            raise socket.gaierror(f"invalid host name {host!r}") from exc
        if not infos:
            raise socket.gaierror(f"{host!r} has no address")
        for info in infos:
            self.check_ip(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        return infos


def check_url(url: str, policy: AddressPolicy) -> None:
    """An early check without DNS: http(s), a host, and when the host is an IP literal, an allowed one."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise AddressRefused(f"not a URL: {url!r}") from exc
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(f"only http(s) addresses may be called, not {parts.scheme!r}")
    if not host:
        raise AddressRefused(f"no host in {url!r}")
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        ip = parse_ip("127.0.0.1")
    else:
        ip = parse_ip(host)
    if ip is not None:
        policy.check_ip(ip)


# ---- the guarded transport ------------------------------------------------------------------


class _GuardedConnectionMixin:
    """Resolve, check every address, connect to a checked one (replaces urllib3's `_new_conn`)."""

    policy: AddressPolicy
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        host = self.host.strip("[]")
        try:
            infos = self.policy.resolve_checked(host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for *_, address in infos:
            try:  # an IP literal: urllib3 connects to exactly this address, no second look-up
                return create_connection((address[0], self.port), self.timeout, self.source_address,
                                         self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc  # type: ignore[arg-type]
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


def guarded_session(policy: AddressPolicy) -> requests.Session:
    """A session whose every connection goes only to addresses `policy` allows (checked at connect)."""
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"policy": policy})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"policy": policy})
    http_pool = type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the proxy would be what we connect to
    session.mount("http://", GuardedAdapter())
    session.mount("https://", GuardedAdapter())
    return session
