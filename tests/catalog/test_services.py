"""product_ingest end to end against a local shop: product, variants, verified and
de-duplicated images, snapshots kept across re-ingests, two workspaces isolated."""
import io
import json

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog.ingest.errors import IngestError
from catalog.models import Product, ProductSnapshot
from catalog.services import product_ingest, product_ingest_bulk
from tenancy.context import tenant_context
from tenancy.models import Workspace
from tests.catalog.conftest import png_bytes

pytestmark = pytest.mark.django_db


def product_page(price="59.00") -> str:
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Canvas Tote", "sku": "CT-1",
            "brand": "Sailcloth", "image": ["/img/main.png", "/img/copy.png", "/img/resized.png", "/img/icon.png",
                                            "/img/bomb.png", "/img/broken.png", "/img/second.png"],
            "offers": [{"@type": "Offer", "name": "Blue", "sku": "CT-1-B", "price": price, "priceCurrency": "USD",
                        "availability": "https://schema.org/InStock"},
                       {"@type": "Offer", "name": "Red", "sku": "CT-1-R", "price": price, "priceCurrency": "USD",
                        "availability": "https://schema.org/OutOfStock"}]}
    return (f'<html><head><title>Canvas Tote</title><script type="application/ld+json">{json.dumps(data)}'
            f'</script></head><body><h1>Canvas Tote</h1></body></html>')


def bomb_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 Mpx in a few KB
    return out.getvalue()


@pytest.fixture
def stocked_shop(shop):
    main = png_bytes()
    resized = io.BytesIO()
    Image.open(io.BytesIO(main)).resize((640, 480)).save(resized, "PNG")
    images = {"main": main, "copy": main, "resized": resized.getvalue(), "icon": png_bytes(size=(32, 32)),
              "bomb": bomb_png(), "broken": b"\x89PNG\r\n\x1a\nnot really", "second": png_bytes((20, 90, 200), pattern=1)}
    for name, data in images.items():
        shop.routes[f"/img/{name}.png"] = (200, {"Content-Type": "image/png"}, data)
    shop.html("/tote", product_page())
    return shop


def test_ingest_creates_product_images_variants_snapshot(stocked_shop, settings):
    settings.CATALOG_BROWSER_ENABLED = False
    ws = Workspace.objects.create(name="A", slug="a")
    url = f"{stocked_shop.origin}/tote"
    with tenant_context(ws):
        product = product_ingest(workspace=ws, url=url)
        facts = product.as_facts()
        assert (facts["title"], facts["brand"], facts["price"], facts["currency"]) == ("Canvas Tote", "Sailcloth", "59.00", "USD")
        assert [v["sku"] for v in facts["variants"]] == ["CT-1-B", "CT-1-R"]
        images = list(product.images.order_by("position"))
        # copy (same bytes) and resized (same picture) de-duplicated; icon, bomb, broken refused
        assert [i.source_url.rsplit("/", 1)[1] for i in images] == ["main.png", "second.png"]
        assert images[0].width == 320 and len(images[0].sha256) == 64 and len(images[0].phash) == 16
        assert images[0].file.name.startswith(f"workspaces/{ws.pk}/products/{product.pk}/images/")
        assert default_storage.exists(images[0].file.name)
        snap = ProductSnapshot.objects.get(product=product)
        assert snap.extraction["title"] == "Canvas Tote" and snap.fetched_with == "http"
        assert b"Canvas Tote" in default_storage.open(snap.html.name).read()


def test_reingest_updates_and_keeps_history_and_workspaces_are_isolated(stocked_shop, settings):
    settings.CATALOG_BROWSER_ENABLED = False
    ws_a = Workspace.objects.create(name="A", slug="a")
    ws_b = Workspace.objects.create(name="B", slug="b")
    url = f"{stocked_shop.origin}/tote"
    with tenant_context(ws_a):
        first = product_ingest(workspace=ws_a, url=url)
    stocked_shop.html("/tote", product_page(price="49.00"))
    from catalog.ingest.fetch import clear_cache
    clear_cache()
    with tenant_context(ws_a):
        again = product_ingest(workspace=ws_a, url=url)
        assert again.pk == first.pk and str(again.price) == "49.00"
        assert ProductSnapshot.objects.filter(product=again).count() == 2
    with tenant_context(ws_b):
        assert not Product.objects.exists()
        other = product_ingest(workspace=ws_b, url=url)
        assert other.pk != first.pk and Product.objects.count() == 1
    with tenant_context(ws_a):
        assert list(Product.objects.values_list("pk", flat=True)) == [first.pk]


def test_ingest_errors_are_readable(shop, settings):
    settings.CATALOG_BROWSER_ENABLED = False
    ws = Workspace.objects.create(name="A", slug="a")
    shop.html("/captcha", "<html><head><title>Robot Check</title></head><body>Type the characters</body></html>")
    shop.html("/empty", "<html><head><title>Hi</title></head><body><p>nothing here</p></body></html>")
    shop.routes["/pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")
    with tenant_context(ws):
        for path, words in (("/captcha", "robot check"), ("/empty", "no product"), ("/pdf", "not a web page"),
                            ("/missing", "does not exist")):
            with pytest.raises(IngestError) as info:
                product_ingest(workspace=ws, url=f"{shop.origin}{path}")
            assert words in info.value.message.lower() and not info.value.transient
        with pytest.raises(IngestError, match="cannot be imported"):
            product_ingest(workspace=ws, url="http://169.254.169.254/latest/")
        assert not Product.objects.exists()


def test_bulk_reports_progress_and_failures(stocked_shop, settings):
    settings.CATALOG_BROWSER_ENABLED = False
    ws = Workspace.objects.create(name="A", slug="a")
    seen = []
    with tenant_context(ws):
        result = product_ingest_bulk(workspace=ws, urls=[f"{stocked_shop.origin}/tote", f"{stocked_shop.origin}/nope"],
                                     progress=lambda done, total: seen.append((done, total)))
    assert len(result["created"]) == 1 and list(result["failed"]) == [f"{stocked_shop.origin}/nope"]
    assert seen == [(1, 2), (2, 2)]


def test_js_page_falls_back_to_the_browser(shop, settings):
    import shutil
    if not shutil.which(settings.CATALOG_CHROMIUM_PATH):
        pytest.skip("chromium not installed")
    from tests.catalog.test_browser import JS_PAGE
    settings.CATALOG_BROWSER_ENABLED = True
    shop.html("/kettle", JS_PAGE)
    shop.html("/api/stock", "7")
    ws = Workspace.objects.create(name="A", slug="a")
    with tenant_context(ws):
        product = product_ingest(workspace=ws, url=f"{shop.origin}/kettle")
        assert product.title == "JS Kettle" and str(product.price) == "39.90"
        assert product.snapshots.get().fetched_with == "browser"


def test_shopify_adapter_is_detected_from_markup_and_read_live(shop, settings):
    """A Shopify-looking page (cdn.shopify.com assets) at /products/<handle> → the storefront
    JSON is read and outranks the page: all variants, vendor, compare-at price."""
    settings.CATALOG_BROWSER_ENABLED = False
    shop.html("/products/wool-hat", '<html><head><title>Wool Hat</title><meta property="og:title" content="Wool Hat">'
              '<link rel="stylesheet" href="https://cdn.shopify.com/s/files/theme.css"></head>'
              '<body><h1>Wool Hat</h1><span class="price">$30.00</span></body></html>')
    shop.routes["/products/wool-hat.json"] = (200, {"Content-Type": "application/json"}, json.dumps({"product": {
        "title": "Wool Hat", "vendor": "Knitworks", "handle": "wool-hat", "body_html": "<p>Warm.</p>",
        "options": [{"name": "Color"}], "images": [],
        "variants": [{"title": "Grey", "sku": "WH-G", "price": "25.00", "compare_at_price": "30.00", "available": True,
                      "option1": "Grey", "barcode": "0123456789012"},
                     {"title": "Red", "sku": "WH-R", "price": "25.00", "available": False, "option1": "Red"}]}}).encode())
    ws = Workspace.objects.create(name="A", slug="a")
    with tenant_context(ws):
        product = product_ingest(workspace=ws, url=f"{shop.origin}/products/wool-hat")
        facts = product.as_facts()
    assert (facts["brand"], facts["price"], facts["original_price"], facts["gtin"]) == ("Knitworks", "25.00", "30.00", "0123456789012")
    assert [(v["sku"], v["availability"], v["attributes"]) for v in facts["variants"]] == [
        ("WH-G", "InStock", {"Color": "Grey"}), ("WH-R", "OutOfStock", {"Color": "Red"})]
    assert product.provenance["brand"]["source"] == "platform"


def test_bulk_sources_csv_sitemap_and_shopify_collection(shop):
    from catalog.services import urls_from_csv, urls_from_shopify_collection, urls_from_sitemap
    assert urls_from_csv("name,url\nA,https://a.example/p/1\nB, https://a.example/p/2\nC,not-a-url\nA,https://a.example/p/1\n") == [
        "https://a.example/p/1", "https://a.example/p/2"]
    shop.routes["/sitemap.xml"] = (200, {"Content-Type": "application/xml"}, (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{shop.origin}/products.xml</loc></sitemap></sitemapindex>').encode())
    shop.routes["/products.xml"] = (200, {"Content-Type": "application/xml"}, (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<url><loc>{shop.origin}/p/1</loc></url><url><loc>{shop.origin}/p/2&e;</loc></url></urlset>').encode())
    urls = urls_from_sitemap(f"{shop.origin}/sitemap.xml")
    assert urls[0] == f"{shop.origin}/p/1" and "root:" not in "".join(urls)  # no XXE
    shop.routes["/collections/hats/products.json"] = (200, {"Content-Type": "application/json"}, json.dumps(
        {"products": [{"handle": "wool-hat"}, {"handle": "cap"}]}).encode())
    assert urls_from_shopify_collection(f"{shop.origin}/collections/hats") == [
        f"{shop.origin}/products/wool-hat", f"{shop.origin}/products/cap"]


def test_bulk_task_enters_the_workspace_itself(stocked_shop, settings):
    from catalog.tasks import product_ingest_bulk_task
    settings.CATALOG_BROWSER_ENABLED = False
    ws = Workspace.objects.create(name="A", slug="a")
    result = product_ingest_bulk_task.apply(args=[ws.id, [f"{stocked_shop.origin}/tote"]]).get()
    assert product_ingest_bulk_task.name == "catalog.product_ingest_bulk"
    with tenant_context(ws):
        assert list(Product.objects.values_list("pk", flat=True)) == result["created"]


def test_ingest_records_rejected_facts_and_the_spine_carries_them(shop, settings):
    """A marketplace page: the shop as brand, a shipping bullet, a list price 10× the price and
    stars without reviews are refused with reasons; the snapshot keeps what the page said."""
    settings.CATALOG_BROWSER_ENABLED = False
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Canvas Tote", "brand": "eBay",
            "image": ["/img/main.png"], "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.9"},
            "offers": {"@type": "Offer", "price": "19.00", "priceCurrency": "USD"}}
    html = (f'<html><head><title>Canvas Tote | eBay</title><script type="application/ld+json">{json.dumps(data)}'
            '</script></head><body><h1>Canvas Tote</h1><p>Was <s>$199.00</s> now $19.00</p>'
            '<ul class="features"><li>Heavy 16 oz cotton canvas body</li><li>Free shipping and free returns on all orders</li>'
            '<li>Reinforced leather handles</li></ul></body></html>')
    shop.routes["/img/main.png"] = (200, {"Content-Type": "image/png"}, png_bytes())
    shop.html("/itm/canvas-tote/123456789012", html)
    ws, other = Workspace.objects.create(name="A", slug="a"), Workspace.objects.create(name="B", slug="b")
    with tenant_context(ws):
        product = product_ingest(workspace=ws, url=f"{shop.origin}/itm/canvas-tote/123456789012")
        rejected = {r["field"]: r for r in product.rejected_facts}
        assert product.brand == "" and "eBay" == rejected["brand"]["value"]
        assert product.rating is None and "review count" in rejected["rating"]["reason"]
        assert all("shipping" not in f for f in product.features) and "features" in rejected
        facts = product.to_facts()
        assert {r.field for r in facts.rejected} == set(rejected)
        assert facts.images[0].key == product.images.get().file.name and facts.images[0].source == "json-ld"
        assert ProductSnapshot.objects.get(product=product).extraction["brand"] in ("eBay", None)
    with tenant_context(other):
        assert not Product.objects.exists()
