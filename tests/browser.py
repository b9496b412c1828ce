"""Headless Debian Chromium for the end-to-end tests (FIELD_NOTES: never `playwright install`).

Playwright's sync API must not share a thread with the ORM, so ``browse_signed_in`` drives the
browser in its own thread; the caller makes the session (``signed_in_session``) in the test's
thread and hands the browser only its cookie.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def signed_in_session(user) -> str:
    """A real session for ``user`` (allauth's sign-in form is tested on its own elsewhere)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def browse_signed_in(base: str, session_id: str, pages: Callable, *, out: Path,
                     viewport: dict | None = None, timeout: float = 180) -> dict:
    """Open a signed-in page in Chromium and run ``pages(page, base, out, result)`` on it in a
    thread of its own (no ORM there). Returns what ``pages`` put in ``result``; any browser
    error or a browse still running after ``timeout`` fails the calling test."""
    result: dict = {}
    out.mkdir(parents=True, exist_ok=True)

    def browse() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    context = browser.new_context(viewport=viewport or {"width": 1200, "height": 900})
                    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_id,
                                          "url": base}])
                    pages(context.new_page(), base, out, result)
                finally:
                    browser.close()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            result["error"] = repr(exc)

    thread = threading.Thread(target=browse, name="e2e-browser")
    thread.start()
    thread.join(timeout=timeout)
    assert not thread.is_alive(), f"browser still running after {timeout:.0f} s"
    assert "error" not in result, result
    return result
