"""Bounded property-based fuzzing of product extraction (hypothesis): random and malformed
markup, JSON-LD with odd types, deep nesting and weird numbers. Whatever the page, extraction
returns clean facts (every key present, JSON-serialisable for the database, prices that parse
as decimals) or raises a clean IngestError — never another exception."""
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from catalog.ingest.errors import IngestError
from catalog.ingest.extract import FACT_KEYS, extract_product, has_product

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
URL = "https://shop.example/p/1"


def _check(html, url=URL):
    try:
        facts = extract_product(html, url=url)
    except IngestError:
        return None
    assert set(FACT_KEYS) <= set(facts) and isinstance(facts["provenance"], dict)
    dumped = json.dumps(facts, allow_nan=False)   # storable in a PostgreSQL jsonb column,
    assert "\\u0000" not in dumped                 # which refuses NUL characters
    for key in ("price", "original_price"):
        if facts[key] is not None:
            assert Decimal(str(facts[key])).is_finite(), (key, facts[key])
    assert facts["images"] is None or all(isinstance(i, str) for i in facts["images"])
    has_product(facts)
    return facts


# --- values that have broken parsers before ---------------------------------------------------
WEIRD_NUMBERS = st.sampled_from([
    "1e999", "-1e999", "NaN", "nan", "Infinity", "-0", "0x1F", "1,2,3.4.5", "9" * 400, "1e-400", "١٢٣٫٤٥",
    "１２３", "½", "3.", ".5", "--5", "5-", "$", "€ 1.234,56", "1 234,56 €", "¥１，２００", "12,99 zł", "", " ",
    "1_000", "0e0", "4.2e+5", "∞", "\u00a0199", "199\u202f000", "19.99.99", "-5.00", "1/2",
]) | st.integers(min_value=-(10 ** 30), max_value=10 ** 30) | st.floats(allow_nan=True, allow_infinity=True)

JSON_SCALARS = st.none() | st.booleans() | WEIRD_NUMBERS | st.text(max_size=40)
TYPES = st.sampled_from(["Product", "product", "http://schema.org/Product", "Offer", "ProductGroup", "Brand",
                         "AggregateOffer", "", None, 7, ["Product", "Thing"], {"@id": "x"}, ["Offer"], "Book"])


KEYS = st.sampled_from(["name", "price", "offers", "@type", "image", "brand", "@graph", "lowPrice", "priceCurrency",
                        "availability", "itemOffered", "hasVariant", "aggregateRating", "sku", "ratingValue",
                        "reviewCount", "url", "gtin13", "x"])


def _json_values(levels: int = 2):
    """JSON values nested ``levels`` deep (explicit levels: st.recursive was slow to generate)."""
    value = JSON_SCALARS
    for _ in range(levels):
        value = JSON_SCALARS | st.lists(value, max_size=3) | st.dictionaries(KEYS, value, max_size=4)
    return value


@st.composite
def product_nodes(draw):
    node = {"@context": draw(st.sampled_from(["https://schema.org", "http://schema.org/", None, 5])),
            "@type": draw(TYPES)}
    for key in ("name", "price", "offers", "image", "brand", "sku", "aggregateRating", "hasVariant", "@graph"):
        if draw(st.booleans()):
            node[key] = draw(_json_values())
    if draw(st.booleans()):
        node["offers"] = {"@type": draw(TYPES), "price": draw(WEIRD_NUMBERS),
                          "priceCurrency": draw(st.sampled_from(["EUR", "usd", "", "€", None, 3, "XXXX"])),
                          "availability": draw(st.sampled_from(["InStock", "https://schema.org/OutOfStock", 1, None]))}
    return node


def _page(scripts: list[str], body: str = "<h1>Kettle</h1>") -> str:
    return ("<html><head><title>Kettle</title>" + "".join(
        f'<script type="application/ld+json">{s}</script>' for s in scripts) + f"</head><body>{body}</body></html>")


@FUZZ
@given(st.lists(product_nodes(), min_size=1, max_size=3))
def test_jsonld_with_odd_types_and_numbers(nodes):
    _check(_page([json.dumps(n, default=str) for n in nodes]))


@FUZZ
@given(st.integers(min_value=50, max_value=200_000), st.sampled_from(["[", '{"a":', '{"@graph":[']))
def test_deeply_nested_jsonld(depth, opener):
    closer = {"[": "]", '{"a":': "}", '{"@graph":[': "]}"}[opener]
    script = opener * depth + '{"@type":"Product","name":"Deep","offers":{"price":"5"}}' + closer * depth
    _check(_page([script, json.dumps({"@type": "Product", "name": "Kettle", "offers": {"price": "9.99"}})]))


@FUZZ
@given(st.text(max_size=3000))
def test_random_text(text):
    _check(text)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    _check(data)


TAGS = st.sampled_from(["div", "span", "h1", "p", "meta", "script", "img", "a", "table", "td", "svg", "template",
                        "html", "body", "head", "title", "form", "![CDATA[", "!--", "?xml", "", "x:y", "iframe"])
ATTRS = st.sampled_from(['itemprop="price"', 'itemscope itemtype="http://schema.org/Product"', 'itemprop="name"',
                         'content="1e999"', 'property="og:price:amount"', 'property="product:price:amount"',
                         'class="price"', 'src="javascript:alert(1)"', 'src="//\x00"', 'content="NaN"',
                         'type="application/ld+json"', 'typeof="schema:Product"', 'property="schema:price"',
                         'vocab="http://schema.org/"', 'lang="zz"', 'data-price="-0"', 'href="http://[::1"',
                         'content=""', '"', "=", "itemprop"])


@st.composite
def markup(draw):
    parts = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{draw(TAGS)} {' '.join(draw(st.lists(ATTRS, max_size=3)))}>")
        elif kind == 1:
            parts.append(f"</{draw(TAGS)}>")
        elif kind == 2:
            parts.append(str(draw(WEIRD_NUMBERS)))
        else:
            parts.append(draw(st.text(max_size=30)))
    return "".join(parts)


@FUZZ
@given(markup())
def test_malformed_markup_microdata_rdfa_opengraph(html):
    _check(html)


@pytest.mark.parametrize("html", [
    _page(["[" * 100_000]),                                     # unterminated, 100k deep
    _page(["[" * 100_000 + "]" * 100_000]),                    # terminated, 100k deep
    _page(['{"@type": "Product", "name": "X", "offers": {"price": 1e999}}']),
    _page(['{"@type": "Product", "name": "X", "offers": {"price": NaN}}']),
    _page(['{"@type": ["Product", {"@id": 1}], "name": {"@value": ["X"]}, "offers": [[[{"price": "5"}]]]}']),
    '<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">X</span>'
    '<meta itemprop="price" content="Infinity"></div>',
    '<html><head><meta property="og:title" content="X"><meta property="product:price:amount" content="1e400">',
    "\x00" * 100 + "<h1>\x00X</h1>",
    _page(['{"@type": "Product", "name": "Ket\\u0000tle", "description": "a\\u0000b", "sku": "\\u0000",'
           ' "offers": {"price": "5\\u0000", "priceCurrency": "EUR\\u0000"}}']),
])
def test_known_hostile_pages(html):
    _check(html)
