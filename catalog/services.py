"""Catalog services (writes). ``product_ingest`` turns a product link into a Product with its
images, variants and a snapshot of the page; ``product_ingest_bulk`` does it for many links.

Network work (page, browser render, images) happens *before* the transaction; the database
writes are one atomic block, so a failed ingest leaves no half product behind.
"""
from __future__ import annotations

import hashlib
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from catalog.ingest.blocked import block_reason
from catalog.ingest.charset import decode_html
from catalog.ingest.errors import IngestError
from catalog.ingest.extract import EXTRACTOR_VERSION, extract_product, has_product
from catalog.ingest.fetch import fetch_url
from catalog.ingest.images import images_download
from catalog.ingest.sanity import facts_sanitise
from catalog.models import Product, ProductImage, ProductSnapshot, ProductVariant

log = logging.getLogger(__name__)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except InvalidOperation:
        return None


def page_extract(*, url: str, allowed_hosts=None) -> tuple[dict, dict]:
    """Fetch ``url`` (SSRF-guarded), refuse blocked pages, extract; render with the browser
    when static HTML holds no product. Returns (facts, page) with page = plain data for the
    snapshot. Pure network + parsing: no database access."""
    fetched = fetch_url(url, allowed_hosts=allowed_hosts)
    if "html" not in fetched.content_type and fetched.content_type and b"<html" not in fetched.content[:2000].lower():
        raise IngestError(f"This link is not a web page ({fetched.content_type.split(';')[0]}).")
    text, _ = decode_html(fetched.content, content_type=fetched.content_type)
    from catalog.ingest.extract.platforms import platform_candidates
    platform = platform_candidates(text, fetched.final_url, allowed_hosts=allowed_hosts)
    facts = extract_product(text, url=fetched.final_url, platform=platform)
    page = {"html": text, "final_url": fetched.final_url, "status": fetched.status, "fetched_with": "http"}
    found = has_product(facts)
    if (reason := block_reason(text, facts=facts)):
        raise IngestError(reason)
    if not found and settings.CATALOG_BROWSER_ENABLED:
        from catalog.ingest.browser import render_url
        from catalog.ingest.fetch import fetch_budget_left
        budget = fetch_budget_left()  # a job stage's deadline bounds the render too
        if budget is not None and budget <= 1:
            raise IngestError("The shop took too long to answer; it is too slow to import.", code="too_slow")
        rendered = render_url(fetched.final_url, allowed_hosts=allowed_hosts,
                              timeout_s=30.0 if budget is None else min(30.0, budget - 1))
        facts = extract_product(rendered.html, url=rendered.final_url)
        page = {"html": rendered.html, "final_url": rendered.final_url, "status": rendered.status,
                "fetched_with": "browser"}
        found = has_product(facts)
        if (reason := block_reason(rendered.html, facts=facts)):
            raise IngestError(reason)
    if not found:
        raise IngestError("No product was found on this page (no product name with a price or picture).")
    return facts, page


def _product_fields(facts: dict) -> dict:
    return {
        "canonical_url": (facts.get("canonical_url") or "")[:2000],
        "title": (facts.get("title") or "")[:500],
        "brand": (facts.get("brand") or "")[:200],
        "description": facts.get("description") or "",
        "price": _decimal(facts.get("price")),
        "original_price": _decimal(facts.get("original_price")),
        "currency": facts.get("currency") or "",
        "availability": facts.get("availability") or "",
        "features": facts.get("features") or [],
        "specs": facts.get("specs") or {},
        "rating": _decimal(facts.get("rating")) if facts.get("rating") is not None else None,
        "review_count": facts.get("review_count"),
        "sku": (facts.get("sku") or "")[:120],
        "gtin": (facts.get("gtin") or "")[:32],
        "mpn": (facts.get("mpn") or "")[:120],
        "provenance": facts.get("provenance") or {},
        "rejected_facts": list(facts.get("rejected") or []),
    }


def product_ingest(*, workspace, url: str, allowed_hosts=None) -> Product:
    """Import the product at ``url`` into ``workspace`` (call inside its tenant_context).

    Same workspace + URL → the same Product, updated; every ingest adds a ProductSnapshot
    (raw HTML in storage + extraction JSON), so history is kept. Raises IngestError."""
    facts, page = page_extract(url=url, allowed_hosts=allowed_hosts)
    # What the page says stays in the snapshot; what the ad may use is checked first.
    usable, rejected = facts_sanitise(facts, url=page["final_url"])
    for item in rejected:
        log.info("product_ingest.fact_rejected url=%s field=%s reason=%s", url, item["field"], item["reason"])
    facts_for_product = {**usable, "rejected": rejected}
    pictures = images_download(facts.get("images") or [], allowed_hosts=allowed_hosts)
    html_bytes = page["html"].encode("utf-8")
    html_sha = hashlib.sha256(html_bytes).hexdigest()
    with transaction.atomic():
        product, _ = Product.objects.update_or_create(
            workspace=workspace, source_url=url[:2000], defaults=_product_fields(facts_for_product))
        base = f"workspaces/{workspace.pk}/products/{product.pk}"
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        html_path = default_storage.save(f"{base}/snapshots/{stamp}-{html_sha[:12]}.html", ContentFile(html_bytes))
        ProductSnapshot.objects.create(
            workspace=workspace, product=product, url=url[:2000], final_url=page["final_url"][:2000],
            http_status=page["status"], fetched_with=page["fetched_with"], html=html_path, html_sha256=html_sha,
            extraction=facts, extractor_version=EXTRACTOR_VERSION)
        product.variants.all().delete()
        ProductVariant.objects.bulk_create([ProductVariant(
            workspace=workspace, product=product, name=(v.get("name") or "")[:300], sku=(v.get("sku") or "")[:120],
            price=_decimal(v.get("price")), currency=v.get("currency") or "",
            availability=v.get("availability") or "", attributes=v.get("attributes") or {})
            for v in (facts.get("variants") or [])[:200]])
        if pictures:  # keep the previous images when this fetch found none
            product.images.all().delete()
            for position, picture in enumerate(pictures):
                path = default_storage.save(f"{base}/images/{picture.sha256[:16]}.{picture.extension}",
                                            ContentFile(picture.data))
                ProductImage.objects.create(
                    workspace=workspace, product=product, position=position, source_url=picture.url[:2000],
                    file=path, width=picture.width, height=picture.height, sha256=picture.sha256,
                    phash=picture.phash)
    product.refresh_from_db()  # DecimalFields read back quantised ('59' -> '59.00')
    return product


def product_ingest_bulk(*, workspace, urls: list[str], progress=None, allowed_hosts=None) -> dict:
    """Ingest many links one by one; one bad link does not stop the rest. ``progress(done,
    total)`` is called after each. Returns {"created": [ids], "failed": {url: message}}."""
    urls = list(dict.fromkeys(u.strip() for u in urls if u and u.strip()))
    created, failed = [], {}
    for done, url in enumerate(urls, start=1):
        try:
            created.append(product_ingest(workspace=workspace, url=url, allowed_hosts=allowed_hosts).pk)
        except IngestError as exc:
            failed[url] = exc.message
        if progress:
            progress(done, len(urls))
    return {"created": created, "failed": failed}


def urls_from_csv(text: str, *, limit: int = 1000) -> list[str]:
    """Product links from CSV text: every cell that looks like an http(s) URL, in order."""
    import csv
    import io
    urls = [cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row
            if cell.strip().startswith(("http://", "https://"))]
    return list(dict.fromkeys(urls))[:limit]


def urls_from_sitemap(url: str, *, allowed_hosts=None, limit: int = 1000, _depth: int = 0) -> list[str]:
    """Page links of a sitemap (index sitemaps followed one level), fetched through the guard.
    Parsed without DTDs, entities or network access (no XXE)."""
    from lxml import etree
    fetched = fetch_url(url, allowed_hosts=allowed_hosts, accept="application/xml,text/xml;q=0.9,*/*;q=0.5")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(fetched.content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise IngestError("This sitemap is not valid XML.") from exc
    locs = [loc.strip() for loc in root.xpath("//*[local-name()='loc']/text()")]
    if root.xpath("local-name()") == "sitemapindex" and _depth == 0:
        urls: list[str] = []
        for child in locs[:20]:
            urls.extend(urls_from_sitemap(child, allowed_hosts=allowed_hosts, limit=limit, _depth=1))
            if len(urls) >= limit:
                break
        return urls[:limit]
    return list(dict.fromkeys(locs))[:limit]


def urls_from_shopify_collection(url: str, *, allowed_hosts=None, limit: int = 250) -> list[str]:
    """Product links of a Shopify collection (``/collections/<handle>``) via its public
    ``products.json`` storefront endpoint."""
    import json
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if "/collections/" not in path:
        raise IngestError("This is not a Shopify collection link (/collections/<name>).")
    origin = f"{parts.scheme}://{parts.netloc}"
    fetched = fetch_url(f"{origin}{path}/products.json?limit={min(limit, 250)}", allowed_hosts=allowed_hosts,
                        accept="application/json")
    try:
        products = json.loads(fetched.content.decode("utf-8")).get("products") or []
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise IngestError("The shop did not return its collection as Shopify JSON.") from exc
    return [f"{origin}/products/{p['handle']}" for p in products if isinstance(p, dict) and p.get("handle")][:limit]
