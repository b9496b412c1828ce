"""The bundled sample shop: one product page (JSON-LD + OpenGraph + bullets) and its
white-background product photo, served on loopback for `make demo` and end-to-end tests."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

SHOP_DIR = Path(__file__).resolve().parent / "site"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def sample_shop_serve(directory: Path = SHOP_DIR) -> Iterator[str]:
    """Serve the sample shop on 127.0.0.1 (a free port); yields the product page URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="sample-shop", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/products/aurora-bottle.html"
    finally:
        server.shutdown()
        server.server_close()
