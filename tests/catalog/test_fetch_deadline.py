"""A shop trickling one byte a second cannot hold a fetch past its total deadline: the OS clock
ends it (a watchdog shuts the socket), whether the bytes trickle in the body or the headers."""
import shutil
import threading
import time

import pytest

from catalog.ingest.errors import IngestError
from catalog.ingest.fetch import clear_cache, fetch_deadline, fetch_url
from generation.drills.servers import SlowOrigin


def _timed_fetch(url: str, **kwargs) -> tuple[float, BaseException | None]:
    """Run the fetch in a thread so that a hang fails the test instead of hanging the suite."""
    outcome: dict = {}

    def target():
        try:
            fetch_url(url, use_cache=False, rate_limit=False, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the fetch was still running after 20 s"
    return time.monotonic() - started, outcome.get("error")


@pytest.fixture
def allow(settings):
    def _allow(origin: SlowOrigin):
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [origin.host]
        settings.CATALOG_FETCH_TIMEOUT_S = 5  # each read gets a byte well within this
        clear_cache()
    return _allow


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_trickling_origin_is_cut_at_the_total_deadline(allow, mode):
    with SlowOrigin(mode=mode, rate_s=0.2) as origin:
        allow(origin)
        took, error = _timed_fetch(origin.url(), deadline_s=2)
        assert isinstance(error, IngestError) and error.code == "too_slow", error
        assert error.transient is False and "too slow" in str(error)
        assert 1.8 <= took <= 4, took
        time.sleep(0.5)
        assert origin.open_connections() == 0  # the socket was really closed, not abandoned


def test_a_stage_budget_narrows_every_fetch(allow, settings):
    settings.CATALOG_FETCH_DEADLINE_S = 30
    with SlowOrigin(mode="body", rate_s=0.2) as origin:
        allow(origin)
        with fetch_deadline(1.5):
            started = time.monotonic()
            with pytest.raises(IngestError, match="too slow"):
                fetch_url(origin.url("/budget"), use_cache=False, rate_limit=False)
            assert time.monotonic() - started <= 3
            time.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(IngestError, match="too slow"):  # budget spent: fails at once
                fetch_url(origin.url("/after"), use_cache=False, rate_limit=False)
            assert time.monotonic() - started < 0.5


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed")
def test_browser_render_ends_by_its_deadline_when_a_subresource_trickles(shop):
    """The page's script comes from a 1 B/s origin: the render still ends by its total
    deadline (every routed request shares it) with the page or a readable IngestError."""
    from catalog.ingest.browser import render_url

    with SlowOrigin(mode="body", rate_s=0.2) as origin:
        shop.html("/page", f'<html><head><script src="{origin.url("/app.js")}"></script></head>'
                           "<body><h1>Kettle</h1></body></html>")
        started = time.monotonic()
        try:
            rendered = render_url(f"{shop.origin}/page", allowed_hosts=[shop.host, origin.host], timeout_s=3)
        except IngestError as exc:  # a readable failure is fine; a hang or a bare TimeoutError is not
            assert "too" in str(exc) or "render" in str(exc)
        else:
            assert "Kettle" in rendered.html
        assert time.monotonic() - started < 10
