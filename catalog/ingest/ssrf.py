"""SSRF guard for every user-supplied URL (product links now, webhooks later).

``check_url`` parses the URL, resolves the host and refuses anything that is not a public
unicast address: loopback, private, link-local (cloud metadata 169.254.169.254), shared
(CGNAT), multicast, reserved, unspecified, IPv4-mapped/compatible IPv6 and non-http(s)
schemes. It returns the *checked IP*; callers connect to that IP (Host header / SNI carry the
name), so a DNS answer cannot change between check and connect (no rebinding window).

``allowed_hosts`` ("host" or "host:port", default ``settings.CATALOG_SSRF_ALLOWED_HOSTS``) is
the explicit operator exception, e.g. the demo's bundled sample shop or a test server.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from catalog.ingest.errors import UnsafeURLError

ALLOWED_SCHEMES = {"http": 80, "https": 443}
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class ResolvedTarget:
    """A URL that passed the guard, with the address to connect to."""

    url: str
    scheme: str
    host: str          # the name as written (Host header, TLS SNI and certificate check)
    port: int
    ip: str            # the checked address: connect here and nowhere else
    path: str          # path + query, for the request line
    exception: bool    # allowed only through allowed_hosts

    @property
    def host_header(self) -> str:
        default = ALLOWED_SCHEMES[self.scheme]
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURLError(f"The address {host!r} could not be resolved.") from exc
    return [info[4][0] for info in infos]


def ip_refusal(ip_text: str) -> str | None:
    """Why this address must not be contacted, or None when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if ip.version == 6:
        if ip.ipv4_mapped is not None or (ip.packed[:12] == bytes(12) and not ip.is_unspecified
                                          and not ip.is_loopback):
            return "an IPv4-mapped/compatible IPv6 address"
        if ip.sixtofour is not None or ip.teredo is not None:
            return "a tunnelled (6to4/Teredo) IPv6 address"
    checks = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
              ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
              ("reserved", ip.is_reserved), ("private", ip.is_private))
    for name, flagged in checks:
        if flagged:
            return f"a {name} address"
    if not ip.is_global:
        return "not a public address"
    return None


def _allowed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    host = host.lower().strip("[]")
    for entry in allowed_hosts or ():
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("[") and "]" in entry:          # [::1]:8000
            name, _, rest = entry[1:].partition("]")
            entry_port = rest.lstrip(":") or None
        elif entry.count(":") == 1:
            name, entry_port = entry.split(":")
        else:
            name, entry_port = entry, None
        if name == host and (entry_port is None or entry_port == str(port)):
            return True
    return False


def check_url(url: str, *, allowed_hosts: Iterable[str] | None = None,
              resolver: Resolver | None = None) -> ResolvedTarget:
    """Validate ``url`` and resolve it to one checked address; raises ``UnsafeURLError``."""
    if allowed_hosts is None:
        from django.conf import settings
        allowed_hosts = getattr(settings, "CATALOG_SSRF_ALLOWED_HOSTS", [])
    if not isinstance(url, str) or len(url) > 4000 or any(c in url for c in "\r\n\t\x00 "):
        raise UnsafeURLError("This is not a valid web address.")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"Only http and https links can be imported (got {scheme or 'no'} scheme).")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("Links with a user name or password in them are not accepted.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("This link has no host name.")
    try:
        port = parts.port or ALLOWED_SCHEMES[scheme]
    except ValueError as exc:
        raise UnsafeURLError("This link has an invalid port.") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    exception = _allowed(host, port, allowed_hosts)
    addresses = (resolver or system_resolver)(host, port)
    if not addresses:
        raise UnsafeURLError(f"The address {host!r} could not be resolved.")
    if not exception:
        for address in addresses:  # every answer: a mixed public/private record is refused
            reason = ip_refusal(address)
            if reason:
                raise UnsafeURLError(f"This link points to {reason} ({address}); it cannot be imported.")
    return ResolvedTarget(url=url.strip(), scheme=scheme, host=host, port=port, ip=addresses[0],
                          path=path, exception=exception)
