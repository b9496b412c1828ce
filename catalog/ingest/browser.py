"""Render JS-built product pages with Playwright driving Debian Chromium.

One long-lived browser per process, owned by a dedicated thread: Playwright's sync API must
stay on the thread that started it, and Django's ORM refuses to run in a thread with a live
event loop, so callers hand jobs over a queue and get plain data (HTML, final URL) back.
No ORM call ever happens in the browser thread.

Network containment is layered, because request interception alone does not see sockets
(Chromium pre-connects to a navigation's target before the route handler runs, and WebRTC
speaks UDP):

1. Every connection Chromium makes goes through a guarded forward proxy
   (``catalog.ingest.proxy``) that resolves the host itself, applies the fetcher's SSRF guard
   and connects to the checked IP (no DNS rebinding window). Each render gets its own proxy
   carrying that job's ``allowed_hosts``; the browser-wide default proxy refuses everything.
   The bypass list is ``<-loopback>``, so loopback goes through the proxy too. Chromium's own
   resolver maps every name to "not found", so nothing can go around it.
2. Route interception: GET requests are checked and performed by our own fetcher (which
   connects to the checked IP), other methods are checked and continued through the proxy;
   images, media, fonts and stylesheets are not fetched (not needed for the DOM); WebSockets
   are closed.
3. WebRTC cannot send UDP outside the proxy (``--webrtc-ip-handling-policy``) and its
   constructors are removed from every page; service workers are blocked, downloads refused,
   QUIC and DNS prefetching off.
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from django.conf import settings

from catalog.ingest.errors import IngestError, UnsafeURLError
from catalog.ingest.fetch import USER_AGENT, fetch_url
from catalog.ingest.proxy import GuardedProxy
from catalog.ingest.ssrf import check_url

log = logging.getLogger(__name__)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage",
                  # WebRTC: no UDP that does not go through the (TCP-only) proxy, i.e. none. The
                  # switch is spelled without "force-" in current Chromium, with it in older ones.
                  "--webrtc-ip-handling-policy=disable_non_proxied_udp",
                  "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                  # Nothing resolves inside Chromium: names are resolved by the proxy, after the guard.
                  # (No --disable-features here: it would replace Playwright's own list.)
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--dns-prefetch-disable"]
# Pages get no WebRTC at all (the flag above is the wall; this keeps scripts from trying).
_NO_WEBRTC = """(() => { for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel",
  "RTCIceCandidate", "RTCSessionDescription", "RTCRtpSender", "RTCRtpReceiver"]) {
  try { Object.defineProperty(globalThis, name, {value: undefined, writable: false, configurable: false}); }
  catch (e) {} } })();"""
_PROXY_BYPASS = "<-loopback>"   # Chromium bypasses proxies for loopback by default; this undoes it
_SKIPPED_TYPES = {"image", "media", "font", "stylesheet", "manifest", "texttrack", "eventsource", "other"}
_SUBRESOURCE_MAX_BYTES = 4 * 1024 * 1024
_MAX_SUBREQUESTS = 150


@dataclass
class RenderResult:
    url: str
    final_url: str
    html: str
    status: int | None
    blocked: list[str] = field(default_factory=list)   # requests refused by the SSRF guard
    proxy_refused: list[str] = field(default_factory=list)  # connections the guarded proxy refused


@dataclass
class _Job:
    url: str
    timeout_s: float
    allowed_hosts: list[str]
    future: Future
    deadline: float = 0.0  # time.monotonic() by which every request of this render must end


class BrowserRenderer:
    """A browser thread; ``render()`` is safe to call from any thread."""

    def __init__(self, *, executable_path: str | None = None, resolver=None):
        self.executable_path = executable_path or settings.CATALOG_CHROMIUM_PATH
        self.resolver = resolver   # tests and drills: names mapped to chosen addresses
        self._default_proxy: GuardedProxy | None = None
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="catalog-browser", daemon=True)
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._thread.start()
        self._started.wait(60)
        if self._start_error is not None:
            raise IngestError(f"The page renderer could not start: {self._start_error}", transient=True)

    def render(self, url: str, *, timeout_s: float = 30.0, allowed_hosts=None) -> RenderResult:
        if allowed_hosts is None:
            allowed_hosts = list(getattr(settings, "CATALOG_SSRF_ALLOWED_HOSTS", []))
        future: Future = Future()
        self._jobs.put(_Job(url, timeout_s, list(allowed_hosts), future, time.monotonic() + timeout_s))
        try:  # a total deadline: the route handlers' fetches share it, so this wait is bounded
            return future.result(timeout=timeout_s + 15)
        except FutureTimeout as exc:
            raise IngestError(f"The page took longer than {timeout_s:.0f} s to render.", code="too_slow") from exc

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(20)

    # --- browser thread ---------------------------------------------------------------
    def _run(self) -> None:
        from playwright.sync_api import sync_playwright
        try:
            # Browser-wide default route out connects nowhere (Chromium's own background calls
            # die here); each render's context overrides it with a proxy for that job.
            self._default_proxy = GuardedProxy(refuse_all=True)
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(
                executable_path=self.executable_path, args=CHROMIUM_FLAGS, headless=True,
                proxy={"server": self._default_proxy.server, "bypass": _PROXY_BYPASS})
        except Exception as exc:  # missing binary, bad flags: reported to the constructor
            self._start_error = exc
            self._started.set()
            if self._default_proxy is not None:
                self._default_proxy.close()
            return
        self._started.set()
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job.future.set_result(self._render(browser, job))
                except BaseException as exc:  # hand every failure back to the caller
                    job.future.set_exception(exc)
        finally:
            browser.close()
            playwright.stop()
            self._default_proxy.close()

    def _render(self, browser, job: _Job) -> RenderResult:
        from playwright.sync_api import Error as PlaywrightError
        blocked: list[str] = []
        count = [0]
        proxy = GuardedProxy(allowed_hosts=job.allowed_hosts, resolver=self.resolver,
                             max_lifetime_s=job.timeout_s + 5)
        try:
            context = browser.new_context(user_agent=USER_AGENT, service_workers="block", accept_downloads=False,
                                          java_script_enabled=True, locale="en-US",
                                          proxy={"server": proxy.server, "bypass": _PROXY_BYPASS})
        except BaseException:
            proxy.close()
            raise
        try:
            context.add_init_script(_NO_WEBRTC)
            context.route("**/*", lambda route, request: self._handle(route, request, job, blocked, count))
            context.route_web_socket("**/*", lambda ws: ws.close())
            page = context.new_page()
            try:
                response = page.goto(job.url, wait_until="load", timeout=job.timeout_s * 1000)
            except PlaywrightError as exc:
                if blocked and blocked[0] == job.url:
                    raise UnsafeURLError(f"This link cannot be imported: {blocked[0]} is not a public address.")
                raise IngestError(f"The page could not be rendered: {str(exc).splitlines()[0]}", transient=True)
            try:  # give late scripts a moment to inject their product data
                page.wait_for_load_state("networkidle", timeout=min(5000, job.timeout_s * 1000))
            except PlaywrightError:
                pass
            return RenderResult(url=job.url, final_url=page.url, html=self._content(page),
                                status=response.status if response else None, blocked=blocked,
                                proxy_refused=list(proxy.refused))
        except PlaywrightError as exc:   # a page closed or navigating under us: a readable failure
            raise IngestError(f"The page could not be rendered: {str(exc).splitlines()[0]}", transient=True) from exc
        finally:
            try:
                context.close()
            except PlaywrightError:
                log.info("browser context close failed", exc_info=True)
            proxy.close()

    @staticmethod
    def _content(page) -> str:
        """The DOM as HTML; a page that is still navigating (a script or meta refresh moving it)
        is given a moment to settle, a few times."""
        from playwright.sync_api import Error as PlaywrightError
        for _attempt in range(3):
            try:
                return page.content()
            except PlaywrightError:
                try:
                    page.wait_for_load_state("domcontentloaded", timeout=2000)
                except PlaywrightError:
                    pass
        return page.content()

    def _handle(self, route, request, job: _Job, blocked: list[str], count: list[int]) -> None:
        from playwright.sync_api import Error as PlaywrightError
        try:
            self._answer(route, request, job, blocked, count)
        except PlaywrightError:   # the page or its context closed while we were answering
            log.debug("route answer dropped for %s", request.url)

    def _answer(self, route, request, job: _Job, blocked: list[str], count: list[int]) -> None:
        url = request.url
        if request.resource_type in _SKIPPED_TYPES and not request.is_navigation_request():
            route.abort("blockedbyclient")
            return
        if url.startswith("data:"):
            route.continue_()
            return
        count[0] += 1
        if count[0] > _MAX_SUBREQUESTS:
            route.abort("blockedbyclient")
            return
        if request.method not in ("GET", "HEAD"):
            # Form posts and API calls keep their method and body: checked here, then sent
            # by Chromium through the guarded proxy (which checks again and pins the address).
            try:
                check_url(url, allowed_hosts=job.allowed_hosts, resolver=self.resolver)
            except UnsafeURLError:
                blocked.append(url)
                route.abort("addressunreachable")
                return
            route.continue_()
            return
        try:
            result = fetch_url(url, allowed_hosts=job.allowed_hosts, raise_for_status=False, resolver=self.resolver,
                               max_bytes=None if request.is_navigation_request() else _SUBRESOURCE_MAX_BYTES,
                               timeout=min(job.timeout_s, 20), rate_limit=request.is_navigation_request(),
                               deadline_s=job.deadline - time.monotonic() if job.deadline else None)
        except UnsafeURLError:
            blocked.append(url)
            route.abort("addressunreachable")
            return
        except IngestError:
            route.abort("failed")
            return
        headers = {k: v for k, v in result.headers.items()
                   if k not in ("content-encoding", "content-length", "transfer-encoding", "connection")}
        route.fulfill(status=result.status, headers=headers, body=result.content)


_renderer: BrowserRenderer | None = None
_renderer_lock = threading.Lock()


def get_renderer() -> BrowserRenderer:
    """The process-wide renderer, started on first use."""
    global _renderer
    with _renderer_lock:
        if _renderer is None or not _renderer._thread.is_alive():
            _renderer = BrowserRenderer()
            atexit.register(_renderer.close)
        return _renderer


def render_url(url: str, *, timeout_s: float = 30.0, allowed_hosts=None) -> RenderResult:
    """Render ``url`` in the shared browser and return its final DOM as HTML."""
    return get_renderer().render(url, timeout_s=timeout_s, allowed_hosts=allowed_hosts)
