"""Render JS-built product pages with Playwright driving Debian Chromium.

One long-lived browser per process, owned by a dedicated thread: Playwright's sync API must
stay on the thread that started it, and Django's ORM refuses to run in a thread with a live
event loop, so callers hand jobs over a queue and get plain data (HTML, final URL) back.
No ORM call ever happens in the browser thread.

Every request the page makes goes through route interception: the SSRF guard checks it and
our own fetcher (which connects to the checked IP) performs it, so the browser never does a
DNS lookup or connection of its own. Images, media, fonts and stylesheets are not fetched
(not needed for the DOM); WebSockets and service workers are refused.
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

log = logging.getLogger(__name__)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
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


@dataclass
class _Job:
    url: str
    timeout_s: float
    allowed_hosts: list[str]
    future: Future
    deadline: float = 0.0  # time.monotonic() by which every request of this render must end


class BrowserRenderer:
    """A browser thread; ``render()`` is safe to call from any thread."""

    def __init__(self, *, executable_path: str | None = None):
        self.executable_path = executable_path or settings.CATALOG_CHROMIUM_PATH
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
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=self.executable_path, args=CHROMIUM_FLAGS,
                                                 headless=True)
        except Exception as exc:  # missing binary, bad flags: reported to the constructor
            self._start_error = exc
            self._started.set()
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

    def _render(self, browser, job: _Job) -> RenderResult:
        from playwright.sync_api import Error as PlaywrightError
        blocked: list[str] = []
        count = [0]
        context = browser.new_context(user_agent=USER_AGENT, service_workers="block",
                                      java_script_enabled=True, locale="en-US")
        try:
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
            return RenderResult(url=job.url, final_url=page.url, html=page.content(),
                                status=response.status if response else None, blocked=blocked)
        finally:
            context.close()

    @staticmethod
    def _handle(route, request, job: _Job, blocked: list[str], count: list[int]) -> None:
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
        try:
            result = fetch_url(url, allowed_hosts=job.allowed_hosts, raise_for_status=False,
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
