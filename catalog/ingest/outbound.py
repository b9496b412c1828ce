"""One guarded outbound POST, for webhook delivery and any other call to a user-supplied URL.

``guarded_post`` applies the SSRF guard (``ssrf.check_url``) and connects to the checked IP
(Host header and TLS SNI/certificate keep the name), so the DNS answer that was checked is the
one used. Redirects are never followed: a 3xx comes back as it is, and a webhook sender treats
it as a failed delivery. The whole call, connect to last byte, is bounded by one wall-clock
deadline enforced by a timer that shuts the socket down: a peer trickling one byte a second
cannot hold the caller past ``timeout_s``. Only the first ``max_response_bytes`` of the answer
are read.
"""
from __future__ import annotations

import http.client
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from catalog.ingest.errors import UnsafeURLError
from catalog.ingest.ssrf import Resolver, check_url

log = logging.getLogger(__name__)
_REFUSED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade",
                    "proxy-authorization", "te", "trailer", "keep-alive"}


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class OutboundError(Exception):
    """The call could not complete (unreachable, timed out, bad TLS); retrying later may help."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.message = message
        self.transient = transient


class OutboundResponse(NamedTuple):
    status: int
    headers: dict[str, str]       # lower-case names
    body_prefix: bytes            # at most max_response_bytes


def guarded_post(url: str, *, body: bytes, headers: dict[str, str], timeout_s: float = 10.0,
                 max_response_bytes: int = 64 * 1024, allowed_hosts: Iterable[str] | None = None,
                 resolver: Resolver | None = None) -> OutboundResponse:
    """POST ``body`` to ``url`` through the SSRF guard; raises ``UnsafeURLError`` (refused
    address, never retried) or ``OutboundError`` (network failure or deadline, retryable).
    ``allowed_hosts`` defaults to ``settings.CATALOG_SSRF_ALLOWED_HOSTS``, as for the fetcher."""
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes")
    deadline = time.monotonic() + timeout_s
    target = check_url(url, allowed_hosts=allowed_hosts, resolver=resolver)  # resolved once, pinned
    clean = {}
    for key, value in (headers or {}).items():
        if key.lower() in _REFUSED_HEADERS:
            continue
        if not _TOKEN.fullmatch(str(key)) or any(c in str(value) for c in "\r\n\x00"):
            raise ValueError(f"Header {key!r} is not a valid header (bad name, line break or NUL).")
        clean[key] = value
    try:
        sock = socket.create_connection((target.ip, target.port), timeout=max(0.05, min(timeout_s, 10.0)))
    except OSError as exc:
        raise OutboundError(f"Could not connect to {target.host}: {type(exc).__name__}.") from exc
    timed_out = threading.Event()
    live = [sock]   # the socket in use (TLS wrapping replaces it)

    def expire():
        timed_out.set()
        try:
            live[-1].shutdown(socket.SHUT_RDWR)   # wakes any blocked recv/send at once
        except OSError:
            pass

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    timer.daemon = True
    timer.start()
    try:
        result = _exchange(live, target, bytes(body), clean, max_response_bytes, deadline)
        if timed_out.is_set():   # the shutdown can look like a clean end of the answer
            raise TimeoutError("deadline passed while reading the answer")
        return result
    except (OSError, http.client.HTTPException, ssl.SSLError, ValueError) as exc:
        if timed_out.is_set() or time.monotonic() >= deadline:
            raise OutboundError(f"{target.host} did not answer within {timeout_s:g} s.") from exc
        if isinstance(exc, ValueError):   # a caller's bad header, not a network failure
            raise
        if isinstance(exc, ssl.SSLCertVerificationError):
            raise OutboundError(f"The HTTPS certificate of {target.host} could not be verified.",
                                transient=False) from exc
        raise OutboundError(f"The call to {target.host} failed: {type(exc).__name__}.") from exc
    finally:
        timer.cancel()
        live[-1].close()


def _exchange(live: list[socket.socket], target, body: bytes, headers: dict, max_bytes: int,
              deadline: float) -> OutboundResponse:
    sock = live[-1]
    sock.settimeout(max(0.05, deadline - time.monotonic()))
    if target.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        live.append(sock)
        if time.monotonic() >= deadline:   # the timer fired on the raw socket mid-handshake
            raise TimeoutError("deadline passed during the TLS handshake")
    conn = http.client.HTTPConnection(target.ip, target.port)
    conn.sock = sock
    conn.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", target.host_header)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.putheader("Connection", "close")
    conn.endheaders(body)
    response = conn.getresponse()
    chunks, total = [], 0
    while total < max_bytes and (chunk := response.read1(min(64 * 1024, max_bytes - total))):
        chunks.append(chunk)
        total += len(chunk)
    log.info("outbound_post host=%s ip=%s status=%s", target.host, target.ip, response.status)
    return OutboundResponse(status=response.status,
                            headers={k.lower(): v for k, v in response.getheaders()},
                            body_prefix=b"".join(chunks)[:max_bytes])


__all__ = ["guarded_post", "OutboundResponse", "OutboundError", "UnsafeURLError"]
