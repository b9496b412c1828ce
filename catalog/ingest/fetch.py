"""HTTP fetching for ingestion: SSRF-checked on every hop, connected to the checked address,
size- and time-capped, politely rate-limited per host, with a small cache of recent pages.

urllib3 is used directly because it lets us connect to an IP while sending the real Host
header and TLS SNI / certificate hostname: the DNS answer that was checked is the one used.

Every fetch has a total wall-clock deadline enforced by the OS clock, not by data arrival: a
watchdog timer shuts down the fetch's sockets when it passes, so a shop trickling one byte a
second (in the headers or the body) cannot hold a worker. ``fetch_deadline()`` narrows the
deadline of every fetch in a block (a job stage's budget).
"""
from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urljoin

import urllib3
from django.conf import settings

from catalog.ingest.errors import IngestError, UnsafeURLError
from catalog.ingest.ssrf import Resolver, ResolvedTarget, check_url

USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
BASE_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Accept-Encoding": "gzip, deflate",
    "Upgrade-Insecure-Requests": "1",
}
MAX_REDIRECTS = 5
_CACHE_SIZE, _CACHE_TTL_S = 32, 300.0


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict
    content: bytes
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _HostRateLimiter:
    """At most one request per ``interval`` seconds per host, in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, interval: float) -> None:
        if interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + interval
        if start > now:
            time.sleep(start - now)


class _Watchdog:
    """Shuts down every socket of one fetch when its deadline passes (a timer thread: it does
    not depend on the server sending anything)."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if not self.expired:
                return
        self._shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:  # shutdown (not close) wakes a thread blocked in recv() on this socket at once
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def __init__(self, *args, watchdog: _Watchdog, **kwargs):
        self._watchdog = watchdog
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._watchdog.watch(sock)  # the raw socket: shutting it down also ends a TLS read
        return sock


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def __init__(self, *args, watchdog: _Watchdog, **kwargs):
        self._watchdog = watchdog
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._watchdog.watch(sock)
        return sock


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# Absolute time.monotonic() by which every fetch in the current context must end (a stage budget).
_budget_end: contextvars.ContextVar[float | None] = contextvars.ContextVar("fetch_budget_end", default=None)


@contextlib.contextmanager
def fetch_deadline(seconds: float):
    """Every ``fetch_url`` in the block ends within ``seconds`` from now (nested blocks narrow it)."""
    end = time.monotonic() + seconds
    outer = _budget_end.get()
    token = _budget_end.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _budget_end.reset(token)


def fetch_budget_left() -> float | None:
    """Seconds left of the enclosing ``fetch_deadline`` block (None outside one)."""
    end = _budget_end.get()
    return None if end is None else end - time.monotonic()


def _too_slow(seconds: float) -> IngestError:
    # Not transient: a shop that cannot send a page within the deadline will not on a retry
    # either, and retrying it would keep holding workers that other workspaces need.
    return IngestError(f"The shop took longer than {seconds:.0f} s to send the page; it is too slow to import.",
                       code="too_slow")


_rate_limiter = _HostRateLimiter()
_cache: OrderedDict[str, tuple[float, FetchResult]] = OrderedDict()
_cache_lock = threading.Lock()


def _pool(target: ResolvedTarget, timeout: urllib3.Timeout, watchdog: _Watchdog):
    if target.scheme == "https":
        # Connect to the checked IP; SNI and the certificate check use the real host name.
        return _HTTPSPool(
            target.ip, port=target.port, timeout=timeout, retries=False, maxsize=1, watchdog=watchdog,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
    return _HTTPPool(target.ip, port=target.port, timeout=timeout, retries=False, maxsize=1, watchdog=watchdog)


def _read_capped(response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise IngestError(f"The page is larger than {max_bytes // (1024 * 1024) or 1} MB; refusing to download it.")
    chunks, total = [], 0
    for chunk in response.stream(64 * 1024, decode_content=True):
        total += len(chunk)
        if total > max_bytes:  # decoded size: a small gzip cannot expand past the cap either
            raise IngestError(f"The page is larger than {max_bytes // (1024 * 1024) or 1} MB; refusing to download it.")
        chunks.append(chunk)
    return b"".join(chunks)


def _status_error(status: int) -> IngestError | None:
    if status in (404, 410):
        return IngestError("The shop says this page does not exist (HTTP %d)." % status)
    if status in (401, 403):
        return IngestError("The shop refused access to this page (HTTP %d); it may block automated visits." % status)
    if status == 429:
        return IngestError("The shop is rate-limiting us (HTTP 429); try again later.", transient=True)
    if status >= 500:
        return IngestError("The shop's server failed (HTTP %d); try again later." % status, transient=True)
    if status >= 400:
        return IngestError("The shop answered HTTP %d for this page." % status)
    return None


def fetch_url(url: str, *, allowed_hosts=None, max_bytes: int | None = None, timeout: float | None = None,
              accept: str | None = None, resolver: Resolver | None = None, use_cache: bool = True,
              rate_limit: bool = True, raise_for_status: bool = True, deadline_s: float | None = None) -> FetchResult:
    """GET ``url`` with the SSRF guard on every hop; raises ``IngestError`` (``UnsafeURLError``
    for refused addresses). Bodies over ``max_bytes`` (default CATALOG_FETCH_MAX_BYTES) fail.
    ``timeout`` bounds each connect/read; the whole fetch, redirects included, ends within
    ``deadline_s`` (default CATALOG_FETCH_DEADLINE_S) and within any enclosing ``fetch_deadline``."""
    max_bytes = max_bytes or settings.CATALOG_FETCH_MAX_BYTES
    timeout = timeout or settings.CATALOG_FETCH_TIMEOUT_S
    total_s = deadline_s if deadline_s is not None else float(settings.CATALOG_FETCH_DEADLINE_S)
    budget = fetch_budget_left()
    if budget is not None and budget < total_s:
        total_s = budget
    if total_s <= 0:
        raise _too_slow(0)
    deadline = time.monotonic() + total_s
    interval = float(getattr(settings, "CATALOG_FETCH_MIN_INTERVAL_S", 1.0)) if rate_limit else 0.0
    cache_key = f"{accept or ''} {url}"
    # Checked before the cache (a cached page is no bypass) and used for the first hop, so the
    # name is resolved exactly once per hop.
    first = check_url(url, allowed_hosts=allowed_hosts, resolver=resolver)
    if use_cache:
        with _cache_lock:
            hit = _cache.get(cache_key)
            if hit and time.monotonic() - hit[0] < _CACHE_TTL_S:
                return hit[1]
    headers = dict(BASE_HEADERS, **({"Accept": accept} if accept else {}))
    current, redirects = url, []
    for _hop in range(MAX_REDIRECTS + 1):
        target = first if _hop == 0 else check_url(current, allowed_hosts=allowed_hosts, resolver=resolver)
        _rate_limiter.wait(target.host, interval)
        left = deadline - time.monotonic()
        if left <= 0:
            raise _too_slow(total_s)
        # Each socket wait is also capped by what is left, and the watchdog ends the fetch at
        # the deadline even while bytes keep trickling in.
        watchdog = _Watchdog(deadline)
        pool = _pool(target, urllib3.Timeout(connect=min(timeout, 10, left), read=min(timeout, left)), watchdog)
        try:
            response = pool.urlopen("GET", target.path, headers=dict(headers, Host=target.host_header),
                                    redirect=False, preload_content=False, retries=False)
            try:
                if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                    redirects.append(current)
                    current = urljoin(current, response.headers["location"].strip())
                    continue
                body = _read_capped(response, max_bytes)
            finally:
                response.release_conn()
            if watchdog.expired:  # the shutdown looks like a clean end of a close-delimited body
                raise _too_slow(total_s)
        except IngestError:
            raise
        except urllib3.exceptions.SSLError as exc:
            if watchdog.expired:
                raise _too_slow(total_s) from exc
            raise IngestError(f"The shop's HTTPS certificate could not be verified ({target.host}).") from exc
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.NewConnectionError, urllib3.exceptions.HTTPError, OSError) as exc:
            if watchdog.expired:
                raise _too_slow(total_s) from exc
            raise IngestError(f"Could not reach {target.host}: {type(exc).__name__}.", transient=True) from exc
        finally:
            watchdog.cancel()
            pool.close()
        result = FetchResult(url=url, final_url=current, status=response.status,
                             headers={k.lower(): v for k, v in response.headers.items()},
                             content=body, redirects=redirects)
        if raise_for_status and (error := _status_error(response.status)):
            raise error
        if use_cache and response.status == 200:
            with _cache_lock:
                _cache[cache_key] = (time.monotonic(), result)
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        return result
    raise IngestError(f"Too many redirects (more than {MAX_REDIRECTS}).")


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


__all__ = ["FetchResult", "fetch_url", "fetch_deadline", "fetch_budget_left", "clear_cache", "UnsafeURLError",
           "USER_AGENT"]
