"""HTTP fetching for ingestion: SSRF-checked on every hop, connected to the checked address,
size- and time-capped, politely rate-limited per host, with a small cache of recent pages.

urllib3 is used directly because it lets us connect to an IP while sending the real Host
header and TLS SNI / certificate hostname: the DNS answer that was checked is the one used.
"""
from __future__ import annotations

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


_rate_limiter = _HostRateLimiter()
_cache: OrderedDict[str, tuple[float, FetchResult]] = OrderedDict()
_cache_lock = threading.Lock()


def _pool(target: ResolvedTarget, timeout: urllib3.Timeout):
    if target.scheme == "https":
        # Connect to the checked IP; SNI and the certificate check use the real host name.
        return urllib3.HTTPSConnectionPool(
            target.ip, port=target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
    return urllib3.HTTPConnectionPool(target.ip, port=target.port, timeout=timeout, retries=False, maxsize=1)


def _read_capped(response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise IngestError(f"The page is larger than {max_bytes // (1024 * 1024) or 1} MB; refusing to download it.")
    chunks, total = [], 0
    for chunk in response.stream(64 * 1024, decode_content=True):
        total += len(chunk)
        if total > max_bytes:  # decoded size: a small gzip cannot expand past the cap either
            raise IngestError(f"The page is larger than {max_bytes // (1024 * 1024) or 1} MB; refusing to download it.")
        if time.monotonic() > deadline:
            raise IngestError("The shop took too long to send the page.", transient=True)
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
              rate_limit: bool = True, raise_for_status: bool = True) -> FetchResult:
    """GET ``url`` with the SSRF guard on every hop; raises ``IngestError`` (``UnsafeURLError``
    for refused addresses). Bodies over ``max_bytes`` (default CATALOG_FETCH_MAX_BYTES) fail."""
    max_bytes = max_bytes or settings.CATALOG_FETCH_MAX_BYTES
    timeout = timeout or settings.CATALOG_FETCH_TIMEOUT_S
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
    deadline = time.monotonic() + timeout * 2
    current, redirects = url, []
    for _hop in range(MAX_REDIRECTS + 1):
        target = first if _hop == 0 else check_url(current, allowed_hosts=allowed_hosts, resolver=resolver)
        _rate_limiter.wait(target.host, interval)
        pool = _pool(target, urllib3.Timeout(connect=min(timeout, 10), read=timeout))
        try:
            response = pool.urlopen("GET", target.path, headers=dict(headers, Host=target.host_header),
                                    redirect=False, preload_content=False, retries=False)
            try:
                if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                    redirects.append(current)
                    current = urljoin(current, response.headers["location"].strip())
                    continue
                body = _read_capped(response, max_bytes, deadline)
            finally:
                response.release_conn()
        except IngestError:
            raise
        except urllib3.exceptions.SSLError as exc:
            raise IngestError(f"The shop's HTTPS certificate could not be verified ({target.host}).") from exc
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.NewConnectionError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise IngestError(f"Could not reach {target.host}: {type(exc).__name__}.", transient=True) from exc
        finally:
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


__all__ = ["FetchResult", "fetch_url", "clear_cache", "UnsafeURLError", "USER_AGENT"]
