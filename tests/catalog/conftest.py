"""A real local HTTP server for catalog tests: routes map a path to (status, headers, body)
or to a callable returning that; every request's Host header is recorded."""
from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from catalog.ingest.fetch import clear_cache


class LocalShop:
    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                shop.requests.append((self.path, self.headers.get("Host", "")))
                route = shop.routes.get(self.path.split("?")[0])
                if route is None:
                    status, headers, body = 404, {"Content-Type": "text/html"}, b"<h1>404 Not Found</h1>"
                else:
                    status, headers, body = route() if callable(route) else route
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers and body is not None:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body or b"")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self):  # noqa: N802 (http.server API); recorded as "POST <path>"
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.path = f"POST {self.path}"
                self.do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def html(self, path: str, body: str | bytes, *, content_type: str = "text/html; charset=utf-8", status=200):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type}, data)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(settings):
    """A local shop server, allowed through the SSRF guard by host:port only."""
    server = LocalShop()
    settings.CATALOG_SSRF_ALLOWED_HOSTS = [server.host]
    settings.CATALOG_FETCH_MIN_INTERVAL_S = 0
    settings.CATALOG_FETCH_TIMEOUT_S = 5
    clear_cache()
    yield server
    server.close()
    clear_cache()


def png_bytes(color=(200, 30, 30), size=(320, 240), pattern: int = 0) -> bytes:
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 16):  # some structure so perceptual hashes differ by pattern
        for y in range(0, size[1], 16):
            if (x // 16 + y // 16 + pattern) % 3 == 0:
                image.paste((255 - color[0], 255 - color[1], 255 - color[2]), (x, y, x + 16, y + 16))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def slow(body: bytes, delay: float):
    def route():
        time.sleep(delay)
        return 200, {"Content-Type": "text/html"}, body
    return route
