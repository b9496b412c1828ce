"""Playwright + Debian Chromium: a local page that injects its product with JavaScript is
extracted through the browser; the page's requests to private addresses are refused."""
import shutil

import pytest
from django.conf import settings as django_settings

from catalog.ingest.errors import UnsafeURLError
from catalog.ingest.extract import extract_product, has_product

pytestmark = pytest.mark.skipif(not shutil.which(django_settings.CATALOG_CHROMIUM_PATH)
                                and not shutil.which("chromium"), reason="chromium not installed")

JS_PAGE = """<html><head><title>Loading…</title></head><body><div id="app">Loading</div><script>
setTimeout(function () {
  var s = document.createElement('script'); s.type = 'application/ld+json';
  s.text = JSON.stringify({"@context": "https://schema.org", "@type": "Product", "name": "JS Kettle",
    "brand": {"@type": "Brand", "name": "Brewco"}, "image": "/kettle.png",
    "offers": {"@type": "Offer", "price": "39.90", "priceCurrency": "EUR",
               "availability": "https://schema.org/InStock"}});
  document.head.appendChild(s);
  document.getElementById('app').innerHTML = '<h1>JS Kettle</h1><p class="price">39,90 €</p>';
  fetch('http://169.254.169.254/latest/meta-data/').catch(function () {});
  fetch('/api/stock').then(function (r) { return r.text(); }).then(function (t) {
    document.getElementById('app').insertAdjacentHTML('beforeend', '<p id="stock">' + t + '</p>'); });
}, 30);
</script></body></html>"""


def test_js_injected_product_is_extracted_through_the_browser(shop):
    from catalog.ingest.browser import render_url
    shop.html("/kettle", JS_PAGE)
    shop.html("/api/stock", "in stock: 7")
    static = extract_product(JS_PAGE, url=f"{shop.origin}/kettle")
    assert not has_product(static)
    rendered = render_url(f"{shop.origin}/kettle", allowed_hosts=[shop.host], timeout_s=20)
    facts = extract_product(rendered.html, url=rendered.final_url)
    assert (facts["title"], facts["brand"], facts["price"], facts["currency"], facts["availability"]) == (
        "JS Kettle", "Brewco", "39.90", "EUR", "InStock")
    assert facts["images"] == [f"{shop.origin}/kettle.png"]
    assert "in stock: 7" in rendered.html                      # same-origin XHR went through our fetcher
    assert rendered.blocked == ["http://169.254.169.254/latest/meta-data/"]
    assert all(host == shop.host for _, host in shop.requests)


def test_browser_refuses_a_disallowed_start_url(shop):
    from catalog.ingest.browser import render_url
    shop.html("/kettle", JS_PAGE)
    with pytest.raises(UnsafeURLError):
        render_url(f"{shop.origin}/kettle", allowed_hosts=[], timeout_s=10)
