"""Reading a campaign's product source, completely or not at all.

Every request goes through the catalog's SSRF-guarded, size- and time-capped fetcher
(``catalog.ingest.fetch.fetch_url``) without its page cache (a campaign must see the feed as it
is now). Any failed request or unparsable page raises SourceError: the caller fails the run and
never creates jobs from a half-read feed. Pure network + parsing: no database access.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin, urlsplit

from catalog.ingest.errors import IngestError
from catalog.ingest.fetch import fetch_url

MAX_PRODUCTS = 1000
SHOPIFY_PAGE = 250
MAX_PAGES = 20


class SourceError(Exception):
    """The source could not be read completely; ``transient`` says whether a retry may help."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class SourceProduct:
    key: str                   # stable identity in the seen-set (store id, feed id or the link)
    url: str
    title: str = ""
    price: Decimal | None = None

    def as_dict(self) -> dict:
        return {"key": self.key, "url": self.url, "title": self.title,
                "price": str(self.price) if self.price is not None else None}

    @classmethod
    def from_dict(cls, data: dict) -> "SourceProduct":
        return cls(key=data["key"], url=data["url"], title=data.get("title") or "",
                   price=_decimal(data.get("price")))


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _fetch(url: str, *, accept: str, allowed_hosts) -> bytes:
    try:
        return fetch_url(url, allowed_hosts=allowed_hosts, accept=accept, use_cache=False).content
    except IngestError as exc:
        raise SourceError(f"Could not read {url}: {exc.message}", transient=exc.transient) from exc


def _http_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _unique(products: list[SourceProduct], limit: int) -> list[SourceProduct]:
    seen, out = set(), []
    for product in products:
        if product.key not in seen and _http_url(product.url):
            seen.add(product.key)
            out.append(product)
    return out[:limit]


def read_list(urls: list[str], *, limit: int = MAX_PRODUCTS) -> list[SourceProduct]:
    return _unique([SourceProduct(key=u.strip(), url=u.strip()) for u in urls if u and u.strip()], limit)


def _shopify_endpoint(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path.endswith("/products.json"):
        return origin, f"{origin}{path}"
    if "/collections/" in path:
        return origin, f"{origin}{path}/products.json"
    return origin, f"{origin}/products.json"


def read_shopify(url: str, *, allowed_hosts=None, limit: int = MAX_PRODUCTS) -> list[SourceProduct]:
    """A Shopify store, collection or products.json link, every page of it."""
    origin, endpoint = _shopify_endpoint(url)
    products: list[SourceProduct] = []
    for page in range(1, MAX_PAGES + 1):
        body = _fetch(f"{endpoint}?limit={SHOPIFY_PAGE}&page={page}", accept="application/json",
                      allowed_hosts=allowed_hosts)
        try:
            batch = json.loads(body.decode("utf-8"))["products"]
            if not isinstance(batch, list):
                raise TypeError
        except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise SourceError(f"{endpoint} did not return Shopify products JSON (page {page}).") from exc
        for item in batch:
            if not isinstance(item, dict) or not item.get("handle"):
                continue
            prices = [_decimal(v.get("price")) for v in item.get("variants") or [] if isinstance(v, dict)]
            prices = [p for p in prices if p is not None]
            products.append(SourceProduct(
                key=f"shopify:{item.get('id') or item['handle']}", url=f"{origin}/products/{item['handle']}",
                title=str(item.get("title") or "")[:300], price=min(prices) if prices else None))
        if len(batch) < SHOPIFY_PAGE or len(products) >= limit:
            break
    return _unique(products, limit)


def read_sitemap(url: str, *, allowed_hosts=None, limit: int = MAX_PRODUCTS, _depth: int = 0) -> list[SourceProduct]:
    """Page links of a sitemap (an index followed one level), parsed without DTDs or entities."""
    from lxml import etree

    body = _fetch(url, accept="application/xml,text/xml;q=0.9,*/*;q=0.5", allowed_hosts=allowed_hosts)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{url} is not a valid XML sitemap.") from exc
    locs = [loc.strip() for loc in root.xpath("//*[local-name()='loc']/text()")]
    if root.xpath("local-name()") == "sitemapindex":
        if _depth:
            return []
        products: list[SourceProduct] = []
        for child in locs[:20]:
            products.extend(read_sitemap(child, allowed_hosts=allowed_hosts, limit=limit, _depth=1))
        return _unique(products, limit)
    return read_list(locs, limit=limit)


_LINK_COLUMNS = ("link", "url", "product_url", "product link")
_ID_COLUMNS = ("id", "item_id", "sku", "g:id")
_PRICE_COLUMNS = ("sale_price", "price", "g:price")


def read_feed(url: str, *, allowed_hosts=None, limit: int = MAX_PRODUCTS) -> list[SourceProduct]:
    """A CSV / Google-Merchant-style feed: columns id, title, link, price (sale_price wins);
    a header-less CSV is read as one product link per cell."""
    from price_parser import Price

    body = _fetch(url, accept="text/csv,text/plain;q=0.9,*/*;q=0.5", allowed_hosts=allowed_hosts)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{url} is not UTF-8 text.") from exc
    delimiter = "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    link_col = next((header.index(c) for c in _LINK_COLUMNS if c in header), None)
    if link_col is None:
        return read_list([cell for row in rows for cell in row if _http_url(cell.strip())], limit=limit)
    id_col = next((header.index(c) for c in _ID_COLUMNS if c in header), None)
    title_col = header.index("title") if "title" in header else None
    price_cols = [header.index(c) for c in _PRICE_COLUMNS if c in header]
    products = []
    for row in rows[1:]:
        if len(row) <= link_col or not row[link_col].strip():
            continue
        cell = lambda i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
        price = next((Price.fromstring(cell(i)).amount for i in price_cols if cell(i)), None)
        link = cell(link_col)
        products.append(SourceProduct(key=f"feed:{cell(id_col)}" if cell(id_col) else link, url=link,
                                      title=cell(title_col)[:300], price=_decimal(price)))
    return _unique(products, limit)


def read_category(url: str, *, allowed_hosts=None, limit: int = MAX_PRODUCTS) -> list[SourceProduct]:
    """Product links on a category page: same-site links whose path names a product
    (/products/, /product/, /p/, /dp/), in page order."""
    from lxml import html as lxml_html

    body = _fetch(url, accept="text/html,*/*;q=0.5", allowed_hosts=allowed_hosts)
    try:
        tree = lxml_html.fromstring(body)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{url} is not an HTML page.") from exc
    host = urlsplit(url).netloc
    links = []
    for href in tree.xpath("//a/@href"):
        absolute = urljoin(url, href.strip()).split("#")[0]
        parts = urlsplit(absolute)
        if parts.netloc == host and any(seg in parts.path for seg in ("/products/", "/product/", "/p/", "/dp/")):
            links.append(absolute)
    return read_list(links, limit=limit)


def source_read(*, kind: str, url: str = "", urls: list[str] | None = None, allowed_hosts=None,
                limit: int = MAX_PRODUCTS) -> list[SourceProduct]:
    """Every product of the source, or SourceError. ``kind`` is a Campaign.SourceKind value."""
    readers = {"shopify": read_shopify, "sitemap": read_sitemap, "feed": read_feed, "category": read_category}
    if kind == "list":
        return read_list(urls or [], limit=limit)
    if kind not in readers:
        raise SourceError(f"A {kind!r} source is not read on a schedule.")
    if not _http_url(url):
        raise SourceError("The source needs an http(s) link.")
    return readers[kind](url, allowed_hosts=allowed_hosts, limit=limit)
