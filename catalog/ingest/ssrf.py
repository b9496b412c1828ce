"""SSRF guard for every user-supplied URL (product links now, webhooks later).

``check_url`` parses the URL, resolves the host and refuses anything that is not a public
unicast address: loopback, private, link-local (cloud metadata 169.254.169.254), shared
(CGNAT), site-local, documentation, benchmarking, multicast, reserved, unspecified,
IPv4-mapped/compatible IPv6, 6to4/Teredo tunnels, NAT64 of a refused IPv4 address, and
non-http(s) schemes. It returns the *checked IP*; callers connect to that IP (Host header / SNI carry the
name), so a DNS answer cannot change between check and connect (no rebinding window).

``allowed_hosts`` ("host" or "host:port", default ``settings.CATALOG_SSRF_ALLOWED_HOSTS``) is
the explicit operator exception, e.g. the demo's bundled sample shop or a test server.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

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


# Special-purpose ranges (IANA registries), listed explicitly so the guard does not depend on
# what one Python version's ``ipaddress`` flags: name -> networks.
_REFUSED_NETWORKS = [(name, [ipaddress.ip_network(n) for n in nets]) for name, nets in (
    ("unspecified/\"this network\"", ["0.0.0.0/8", "::/128"]),
    ("loopback", ["127.0.0.0/8", "::1/128"]),
    ("private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]),
    ("shared (CGNAT)", ["100.64.0.0/10"]),
    ("link-local", ["169.254.0.0/16", "fe80::/10"]),
    ("site-local", ["fec0::/10"]),
    ("IETF protocol assignment", ["192.0.0.0/24", "2001::/23"]),
    ("documentation", ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"]),
    ("benchmarking", ["198.18.0.0/15"]),
    ("6to4 relay", ["192.88.99.0/24"]),
    ("multicast", ["224.0.0.0/4", "ff00::/8"]),
    ("reserved", ["240.0.0.0/4", "100::/64", "5f00::/16"]),
    ("local-use NAT64", ["64:ff9b:1::/48"]),
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def ip_refusal(ip_text: str) -> str | None:
    """Why this address must not be contacted, or None when it is a public unicast address.
    Addresses that embed an IPv4 address (mapped, compatible, NAT64) are judged by it; 6to4
    and Teredo tunnels are refused outright."""
    try:
        ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if ip.version == 6:
        if ip.ipv4_mapped is not None or (ip.packed[:12] == bytes(12) and not ip.is_unspecified
                                          and not ip.is_loopback):
            return "an IPv4-mapped/compatible IPv6 address"
        if ip in _NAT64:   # the well-known NAT64 prefix reaches the IPv4 address it embeds
            embedded = ipaddress.IPv4Address(ip.packed[12:])
            inner = ip_refusal(str(embedded))
            return f"a NAT64 address of {embedded} ({inner})" if inner else None
        if ip.sixtofour is not None or ip.teredo is not None:
            return "a tunnelled (6to4/Teredo) IPv6 address"
    for name, networks in _REFUSED_NETWORKS:
        if any(ip in network for network in networks if network.version == ip.version):
            return f"{'an' if name[0] in 'aeiouIU' else 'a'} {name} address"
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
        if not name.isascii():   # an operator may write the exception in Unicode
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                continue
        if name.rstrip(".") == host and (entry_port is None or entry_port == str(port)):
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
    if not host.isascii():   # IDN: the ASCII (punycode) form is what DNS, Host and SNI carry
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnsafeURLError("This link's host name is not a valid domain name.") from exc
    try:
        port = parts.port or ALLOWED_SCHEMES[scheme]
    except ValueError as exc:
        raise UnsafeURLError("This link has an invalid port.") from exc
    # Request-line form: non-ASCII characters percent-encoded as UTF-8 (what browsers send).
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe="!#$%&'()*+,/:;=?@[]~")
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
