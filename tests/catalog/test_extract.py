"""Extraction chain on synthetic pages (each markup kind and none) and normalisation."""
import json
from decimal import Decimal

import pytest

from catalog.ingest.extract import FACT_KEYS, extract_product
from catalog.ingest.normalise import availability_name, currency_code, image_identity, parse_decimal


def page(head: str = "", body: str = "", lang: str = "en") -> str:
    return f'<html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def ld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_jsonld_graph_productgroup_variants_and_provenance():
    html = page(ld({"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "Shop"},
        {"@type": "ProductGroup", "name": "Trail Shoe", "brand": {"@type": "Brand", "name": "Rock"},
         "image": ["/a.jpg", {"@type": "ImageObject", "url": "/b.jpg"}], "productGroupID": "TS",
         "aggregateRating": {"ratingValue": "4.6", "reviewCount": "120"},
         "hasVariant": [
             {"@type": "Product", "name": "Trail Shoe 42", "sku": "TS-42", "size": "42",
              "offers": {"@type": "Offer", "price": "89.00", "priceCurrency": "EUR",
                         "availability": "https://schema.org/OutOfStock"}},
             {"@type": "Product", "name": "Trail Shoe 43", "sku": "TS-43", "size": "43",
              "offers": {"@type": "Offer", "price": "89.00", "priceCurrency": "EUR",
                         "availability": "http://schema.org/InStock"}}]}]}), "<h1>Trail Shoe</h1>")
    facts = extract_product(html, url="https://shop.example/p/ts")
    assert set(FACT_KEYS) <= set(facts)
    assert (facts["title"], facts["brand"], facts["price"], facts["currency"]) == ("Trail Shoe", "Rock", "89", "EUR")
    assert facts["availability"] == "InStock"  # any variant in stock
    assert facts["images"] == ["https://shop.example/a.jpg", "https://shop.example/b.jpg"]
    assert facts["rating"] == 4.6 and facts["review_count"] == 120
    assert [v["sku"] for v in facts["variants"]] == ["TS-42", "TS-43"]
    assert facts["variants"][0]["attributes"] == {"size": "42"}
    assert facts["provenance"]["price"]["source"] == "json-ld"


def test_aggregate_offer_and_offer_arrays():
    agg = page(ld({"@type": "Product", "name": "Lamp", "offers": {
        "@type": "AggregateOffer", "lowPrice": 19.5, "highPrice": 25, "priceCurrency": "GBP"}}))
    assert extract_product(agg)["price"] == "19.50"
    arr = page(ld({"@type": "Product", "name": "Belt", "offers": [
        {"@type": "Offer", "price": "38.15", "priceCurrency": "EUR", "availability": "OutOfStock"},
        {"@type": "Offer", "price": "39.00", "priceCurrency": "EUR", "availability": "InStock"}]}))
    facts = extract_product(arr)
    assert (facts["price"], facts["availability"], len(facts["variants"])) == ("39", "InStock", 2)


def test_broken_jsonld_script_does_not_hide_the_good_one():
    html = page('<script type="application/ld+json">{not json</script>'
                + ld({"@type": "Product", "name": "Mug", "offers": {"price": "7", "priceCurrency": "USD"}}))
    assert extract_product(html)["title"] == "Mug"


def test_microdata_and_opengraph():
    micro = page(body='<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Desk</h1>'
                      '<span itemprop="brand">Oakly</span><div itemprop="offers" itemscope '
                      'itemtype="https://schema.org/Offer"><meta itemprop="priceCurrency" content="RUR">'
                      '<span itemprop="price" content="1299.00">1 299 ₽</span>'
                      '<link itemprop="availability" href="https://schema.org/PreOrder"></div></div>')
    facts = extract_product(micro)
    assert (facts["title"], facts["brand"], facts["price"], facts["currency"], facts["availability"]) == (
        "Desk", "Oakly", "1299", "RUB", "PreOrder")
    assert facts["provenance"]["brand"]["source"] == "microdata"
    og = page('<meta property="og:title" content="Vase"><meta property="og:type" content="product">'
              '<meta property="product:price:amount" content="48,00"><meta property="product:price:currency" '
              'content="USD"><meta property="og:image" content="https://cdn.example/v.jpg">')
    facts = extract_product(og)
    assert (facts["title"], facts["price"], facts["currency"], facts["images"]) == (
        "Vase", "48", "USD", ["https://cdn.example/v.jpg"])


def test_rdfa_product():
    html = page(body='<div vocab="https://schema.org/" typeof="Product"><span property="name">Chair</span>'
                     '<div property="offers" typeof="Offer"><span property="price">120.00</span>'
                     '<span property="priceCurrency">CHF</span></div></div>')
    facts = extract_product(html)
    assert (facts["title"], facts["price"], facts["currency"]) == ("Chair", "120", "CHF")
    assert facts["provenance"]["price"]["source"] == "rdfa"


HEURISTIC = """<html lang="sv"><head><title>Kaffekanna Nord | Hemshop</title>
<meta name="description" content="En kanna."></head><body>
<nav><h1>Hemshop</h1></nav>
<div class="product"><h1 class="product-title">Kaffekanna Nord</h1>
<div class="rating"><span>4,5 av 5</span> <a>23 reviews</a></div>
<div class="price-box"><span class="old-price">499 kr</span><span class="price">399 kr</span></div>
<p class="stock">I lager</p><button>Add to cart</button>
<img class="main-image" src="/img/kanna-large.jpg" width="800">
<div class="features"><ul><li>Rostfritt stål</li><li>1,2 liter</li></ul></div>
<table><tr><th>Brand</th><td>Nordform</td></tr><tr><th>Art.nr</th><td>KN-12</td></tr></table></div>
<div class="related-products"><h2>Others</h2><span class="price">99 kr</span><img src="/img/other.jpg" width="600"></div>
</body></html>"""


def test_heuristics_without_structured_data():
    facts = extract_product(HEURISTIC, url="https://hemshop.se/kanna")
    assert facts["title"] == "Kaffekanna Nord"
    assert (facts["price"], facts["currency"], facts["original_price"]) == ("399", "SEK", "499")
    assert facts["availability"] == "InStock"
    assert facts["images"][0] == "https://hemshop.se/img/kanna-large.jpg"
    assert "https://hemshop.se/img/other.jpg" not in facts["images"][:1]
    assert facts["features"] == ["Rostfritt stål", "1,2 liter"]
    assert facts["brand"] == "Nordform" and facts["sku"] == "KN-12"
    assert facts["specs"]["Brand"] == "Nordform"
    assert facts["review_count"] == 23
    assert facts["provenance"]["price"]["source"] == "heuristics"


def test_baseline_is_structured_only():
    assert extract_product(HEURISTIC, baseline=True)["price"] is None


@pytest.mark.parametrize("raw, hints, code", [
    ("$", ["ca"], "CAD"), ("$", [], "USD"), ("$", ["tw"], "TWD"), ("kr", ["no"], "NOK"), ("kr", ["se"], "SEK"),
    ("¥", ["cn"], "CNY"), ("¥", ["jp"], "JPY"), ("€", [], "EUR"), ("RUR", [], "RUB"), ("zł", [], "PLN"),
    ("ر.س", [], "SAR"), ("R$", [], "BRL"), ("元", ["tw"], "TWD"), ("xyz", [], None),
])
def test_currency_resolution(raw, hints, code):
    assert currency_code(raw, hints=hints) == code


def test_currency_from_page_language_and_tld():
    yen = page(body='<h1 class="product-title">Tea</h1><span class="price">¥1,280</span>', lang="zh-CN")
    assert extract_product(yen)["currency"] == "CNY"
    assert extract_product(yen.replace('lang="zh-CN"', 'lang="ja"'))["currency"] == "JPY"


def test_normalisers():
    assert parse_decimal("1.299,00 €") == Decimal("1299.00")
    assert parse_decimal("$229.990", currency="CLP") == Decimal("229990")
    assert parse_decimal("0") is None and parse_decimal("free") is None
    assert availability_name("http://schema.org/InStock") == "InStock"
    assert availability_name("out of stock") == "OutOfStock"
    assert image_identity("https://x.com/i/abc._AC_SX679_.jpg") == image_identity("http://x.com/i/abc._SL1500_.jpg")


def test_corpus_smoke(corpus_dir):
    facts = extract_product((next((corpus_dir / "pages").glob("011_*.html"))).read_bytes())
    assert facts["title"] == "MÖCKELBY Table, oak 235x100 cm" and facts["price"] == "450" and facts["currency"] == "GBP"


@pytest.mark.parametrize("junk", [b"", "   ", "<<<", b"\x00\xff" * 1000, b"%PDF-1.4 binary",
                                  "<html><body>" + "<div>" * 5000 + "deep",
                                  '<script type="application/ld+json">{"@type":"Product","name":{"a":1},'
                                  '"offers":{"price":[1,2],"priceCurrency":5}}</script>'])
def test_junk_input_gives_empty_facts_not_a_crash(junk):
    facts = extract_product(junk)
    assert set(FACT_KEYS) <= set(facts) and facts["title"] is None and facts["images"] == []
