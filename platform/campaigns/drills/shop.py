"""A Shopify-style store on loopback for drills and tests: ``/products.json`` (paged like the
storefront API), ``/products/<handle>`` (the bundled sample product page, retitled and
repriced per product), ``/sitemap.xml``, ``/feed.csv`` and a ``/collections/all`` category
page. Products can be added and prices changed while it runs; ``fail_with`` makes every
catalogue endpoint answer that HTTP status (a store that is down)."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from catalog.sample_shop import SHOP_DIR

_PAGE = (SHOP_DIR / "products" / "aurora-bottle.html").read_text(encoding="utf-8")
_IMAGE = (SHOP_DIR / "images" / "aurora-bottle.png").read_bytes()


@dataclass
class StoreProduct:
    id: int
    handle: str
    title: str
    price: str = "29.99"


@dataclass
class Store:
    products: list[StoreProduct] = field(default_factory=list)
    fail_with: int | None = None
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def add(self, title: str, price: str = "29.99") -> StoreProduct:
        pid = 1000 + len(self.products)
        handle = "-".join(title.lower().split())[:60]
        product = StoreProduct(id=pid, handle=handle, title=title, price=price)
        self.products.append(product)
        return product

    def page_html(self, product: StoreProduct) -> str:
        return (_PAGE.replace("Aurora Insulated Water Bottle 750 ml", product.title)
                .replace("Aurora Insulated Water Bottle", product.title).replace("29.99", product.price))

    def products_json(self, page: int, limit: int) -> dict:
        chunk = self.products[(page - 1) * limit: page * limit]
        return {"products": [{"id": p.id, "handle": p.handle, "title": p.title,
                              "variants": [{"id": p.id * 10, "price": p.price}]} for p in chunk]}


def _handler(store: Store):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - stdlib signature
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            store.requests.append(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            origin = store.url
            if parts.path.startswith("/images/"):
                return self._send(200, _IMAGE, "image/png")
            by_handle = {p.handle: p for p in store.products}
            if parts.path.startswith("/products/") and parts.path != "/products.json":
                product = by_handle.get(parts.path.split("/")[2])
                if product is None:
                    return self._send(404, b"not found", "text/plain")
                return self._send(200, store.page_html(product).encode(), "text/html; charset=utf-8")
            if store.fail_with:
                return self._send(store.fail_with, b"store is down", "text/plain")
            if parts.path.endswith("products.json"):
                body = store.products_json(int(query.get("page", 1)), int(query.get("limit", 30)))
                return self._send(200, json.dumps(body).encode(), "application/json")
            if parts.path == "/sitemap.xml":
                locs = "".join(f"<url><loc>{origin}/products/{p.handle}</loc></url>" for p in store.products)
                xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
                return self._send(200, xml.encode(), "application/xml")
            if parts.path == "/feed.csv":
                rows = ["id,title,link,price"] + [f"{p.id},{p.title},{origin}/products/{p.handle},{p.price} USD"
                                                 for p in store.products]
                return self._send(200, "\n".join(rows).encode(), "text/csv")
            if parts.path == "/collections/all":
                links = "".join(f'<li><a href="/products/{p.handle}">{p.title}</a></li>' for p in store.products)
                return self._send(200, f"<html><body><a href='/'>Home</a><ul>{links}</ul></body></html>".encode(),
                                  "text/html")
            return self._send(404, b"not found", "text/plain")

    return Handler


@contextlib.contextmanager
def store_serve(store: Store | None = None) -> Iterator[Store]:
    """Serve ``store`` on 127.0.0.1 (a free port); ``store.url`` is its origin."""
    store = store or Store()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    store.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="campaign-store", daemon=True)
    thread.start()
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()
