"""Platform adapters: detect the shop software from the page's MARKUP (never from its domain)
and, during live ingest only, read the platform's own product API, which is more complete than
the HTML (every variant, every image, exact prices).

- Shopify: ``/products/<handle>.json`` (public storefront endpoint) when the page references
  ``cdn.shopify.com`` / ``Shopify.shop`` and the URL path has ``/products/<handle>``.
- WooCommerce: Store API ``/wp-json/wc/store/v1/products?slug=<slug>`` when the page carries
  WooCommerce body classes or scripts.

``detect_platform`` is pure; ``platform_candidates`` does the network call (SSRF-guarded
through ``fetch_url``) and returns raw candidates for the merger with source "platform".
"""
from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from catalog.ingest.errors import IngestError
from catalog.ingest.normalise import availability_name, clean_text

log = logging.getLogger(__name__)
_SHOPIFY = re.compile(r"cdn\.shopify\.com|Shopify\.shop\s*=|shopify-section|window\.ShopifyAnalytics")
_WOO = re.compile(r"woocommerce-page|wc-block|/wp-content/plugins/woocommerce/|single-product")


def detect_platform(html: str, url: str | None) -> tuple[str, str] | None:
    """(platform, handle) when the markup says which shop software served a product URL."""
    path = urlsplit(url or "").path
    if _SHOPIFY.search(html[:500_000]) and (m := re.search(r"/products/([^/?#.]+)", path)):
        return "shopify", m.group(1)
    if _WOO.search(html[:500_000]) and (m := re.search(r"/(?:product|produit|produkt|producto)/([^/?#]+)", path)):
        return "woocommerce", m.group(1)
    return None


def shopify_candidates(data: dict, *, origin: str) -> dict:
    product = data.get("product") or {}
    variants = product.get("variants") or []
    options = [o.get("name") for o in product.get("options") or []]
    images = [i.get("src") for i in product.get("images") or [] if i.get("src")]
    first = variants[0] if variants else {}
    return {k: v for k, v in {
        "title": clean_text(product.get("title")), "brand": clean_text(product.get("vendor")),
        "description": clean_text(product.get("body_html")), "images": images,
        "price": first.get("price"), "original_price": first.get("compare_at_price"),
        "sku": clean_text(first.get("sku")), "gtin": clean_text(first.get("barcode")),
        "canonical_url": f"{origin}/products/{product.get('handle')}" if product.get("handle") else None,
        "variants": [{"name": clean_text(v.get("title")), "sku": clean_text(v.get("sku")), "price": v.get("price"),
                      "currency": None, "availability": availability_name(v.get("available")),
                      "attributes": {n: v.get(f"option{i + 1}") for i, n in enumerate(options) if n and v.get(f"option{i + 1}")}}
                     for v in variants] if len(variants) > 1 else None,
    }.items() if v not in (None, "", [], {})}


def woocommerce_candidates(items: list, *, origin: str) -> dict:
    item = items[0] if items else {}
    prices = item.get("prices") or {}
    minor = int(prices.get("currency_minor_unit") or 0)

    def amount(value):
        return str(Decimal(value) / (10 ** minor)) if value not in (None, "") else None

    return {k: v for k, v in {
        "title": clean_text(item.get("name")), "description": clean_text(item.get("short_description") or item.get("description")),
        "images": [i.get("src") for i in item.get("images") or [] if i.get("src")],
        "price": amount(prices.get("price")), "currency": prices.get("currency_code"),
        "original_price": amount(prices.get("regular_price")) if prices.get("regular_price") != prices.get("price") else None,
        "sku": clean_text(item.get("sku")), "canonical_url": item.get("permalink"),
        "availability": availability_name(item.get("is_in_stock")),
    }.items() if v not in (None, "", [], {})}


def platform_candidates(html: str, url: str, *, allowed_hosts=None) -> dict:
    """Live ingest only: the platform API's candidates, or {} (never raises for API trouble)."""
    from catalog.ingest.fetch import fetch_url
    detected = detect_platform(html, url)
    if not detected:
        return {}
    platform, handle = detected
    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    api = (f"{origin}/products/{handle}.json" if platform == "shopify"
           else f"{origin}/wp-json/wc/store/v1/products?slug={handle}")
    try:
        result = fetch_url(api, allowed_hosts=allowed_hosts, accept="application/json", max_bytes=4 * 1024 * 1024)
        data = json.loads(result.content.decode("utf-8"))
    except (IngestError, ValueError, UnicodeDecodeError) as exc:
        log.info("platform API %s unavailable: %s", api, exc)
        return {}
    if platform == "shopify" and isinstance(data, dict):
        return shopify_candidates(data, origin=origin)
    if platform == "woocommerce" and isinstance(data, list):
        return woocommerce_candidates(data, origin=origin)
    return {}


# A storefront's own product JSON embedded in the page (Shopify themes: <script
# type="application/json" id="ProductJson-…"> or data-product-json), the /products/<handle>.js
# shape: prices are integers in the currency's minor unit, images protocol-relative strings.
_EMBEDDED_XPATH = ("//script[@type='application/json'][starts-with(@id, 'ProductJson') or @data-product-json"
                   " or contains(@id, 'product-json') or contains(@class, 'product-json')]")


def _minor(value):
    """Cents as an integer (the embedded JSON) → a decimal string; decimal strings unchanged."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(Decimal(value) / 100)
    return value


def embedded_product_candidates(doc, *, names: list[str]) -> dict:
    """Candidates from embedded storefront product JSON naming this page's product (its title
    shares most words with one of the page's names), or {}."""
    from catalog.ingest.extract.dom import _words

    name_words = [w for w in (_words(n or "") for n in names) if w]
    for script in doc.xpath(_EMBEDDED_XPATH)[:10]:
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        product = data.get("product") if isinstance(data, dict) and isinstance(data.get("product"), dict) else data
        if not isinstance(product, dict) or not isinstance(product.get("variants"), list) or not product.get("title"):
            continue
        title = _words(str(product["title"]))
        if not any(len(title & words) >= 0.6 * max(len(title), 1) for words in name_words):
            continue  # a quick-view or recommended product's JSON
        variants = [v for v in product["variants"] if isinstance(v, dict)]
        first = next((v for v in variants if v.get("available")), variants[0] if variants else {})
        images = [i if isinstance(i, str) else (i or {}).get("src") for i in product.get("images") or []]
        options = [o.get("name") if isinstance(o, dict) else o for o in product.get("options") or []]
        return {k: v for k, v in {
            "title": clean_text(product.get("title")), "brand": clean_text(product.get("vendor")),
            "description": clean_text(product.get("description")), "images": [i for i in images if i],
            "price": _minor(first.get("price", product.get("price"))),
            "original_price": _minor(first.get("compare_at_price") or product.get("compare_at_price")),
            "availability": availability_name(product.get("available")), "sku": clean_text(first.get("sku")),
            "gtin": clean_text(first.get("barcode")),
            "variants": [{"name": clean_text(v.get("title")), "sku": clean_text(v.get("sku")),
                          "price": _minor(v.get("price")), "currency": None,
                          "availability": availability_name(v.get("available")),
                          "attributes": {n: v.get(f"option{i + 1}") for i, n in enumerate(options)
                                         if n and v.get(f"option{i + 1}")}} for v in variants] if len(variants) > 1 else None,
        }.items() if v not in (None, "", [], {})}
    return {}
