"""Round 3 of extraction accuracy (issue #15): each rule as a minimal synthetic page. The
failing real pages that motivated them are named in docs/catalog.md; no shop or domain is
named in the rules."""
import pytest

from catalog.ingest.extract import extract_product


def _page(head: str = "", body: str = "") -> str:
    return (f"<html><head><title>Trail Lamp 300</title>{head}</head><body><h1>Trail Lamp 300</h1>"
            f"<p class='price'>$10.00</p>{body}</body></html>")


def test_an_og_url_naming_a_picture_is_not_the_page_address():
    head = ('<meta property="og:url" content="https://img.example/i/abc/s-l400.jpg">'
            '<link rel="canonical" href="https://shop.example/itm/Trail-Lamp-/143863282131">')
    facts = extract_product(_page(head))
    assert facts["canonical_url"] == "https://shop.example/itm/Trail-Lamp-/143863282131"
    assert facts["sku"] == "143863282131"  # the address id is read from the real address


@pytest.mark.parametrize("label,value", [
    ("Numero modello articolo", "EUA1026P"),              # it
    ("رقم الموديل من المورد", "GE0654"),                  # ar
    ("Manufacturer Part Number (MPN)", "GA00638-GB"),     # a label restating its abbreviation
    ("Número de modelo", "XK-200"),                       # es
    ("Référence fabricant", "RF1234B"),                   # fr
    ("Номер модели", "H9811"),                            # ru
])
def test_model_number_labels_in_many_languages(label, value):
    body = f"<table><tr><th>Colour</th><td>Black</td></tr><tr><th>{label}</th><td>{value}</td></tr></table>"
    assert extract_product(_page(body=body), url="https://shop.example/x")["mpn"] == value


def _jsonld(**fields) -> str:
    import json
    node = {"@context": "https://schema.org", "@type": "Product", "name": "Trail Lamp 300",
            "offers": {"@type": "Offer", "price": "10.00", "priceCurrency": "USD"}, **fields}
    return f'<script type="application/ld+json">{json.dumps(node)}</script>'


def test_a_labelled_code_outranks_a_structured_sku_shown_nowhere():
    page = _page(_jsonld(sku="10206131"), '<p class="prd-code">Product code: 287807</p>')
    facts = extract_product(page, url="https://shop.example/lamp")
    assert facts["sku"] == "287807" and facts["provenance"]["sku"]["source"] == "heuristics"


def test_a_structured_sku_the_page_prints_stays():
    page = _page(_jsonld(sku="A-100"), "<p>Ref A-100</p><p>Product code: 287807</p>")
    assert extract_product(page, url="https://shop.example/lamp")["sku"] == "A-100"


def test_a_structured_mpn_repeating_the_sku_yields_to_a_labelled_mpn():
    body = "<dl><dt>Manufacturer Part Number (MPN)</dt><dd>GA00638-GB</dd></dl>"
    facts = extract_product(_page(_jsonld(sku="238368885", mpn="238368885"), body), url="https://shop.example/l")
    assert facts["mpn"] == "GA00638-GB"
    # an MPN of its own (not the SKU restated) is kept
    facts = extract_product(_page(_jsonld(sku="238368885", mpn="LMP-300"), body), url="https://shop.example/l")
    assert facts["mpn"] == "LMP-300"


def test_sku_from_a_state_object_naming_the_product():
    state = ('<script>var meta = {"product":{"vendor":"Lumo","variants":[{"id":15856354164779,'
             '"price":1000,"name":"Trail Lamp 300","public_title":null,"sku":"1236291"}]}};'
             'var other = {"name":"Camp Stove 2","sku":"999111"};</script>')
    facts = extract_product(_page(body=state), url="https://shop.example/products/trail-lamp")
    assert facts["sku"] == "1236291" and facts["provenance"]["sku"]["confidence"] < 0.5


def test_a_state_object_naming_another_product_gives_no_sku():
    state = '<script>var rec = [{"name":"Camp Stove 2","sku":"999111"}];</script>'
    assert extract_product(_page(body=state), url="https://shop.example/lamp")["sku"] is None


@pytest.mark.parametrize("label", ["שם מותג", "Brand", "Marke", "الماركة"])
def test_brand_from_a_name_value_spec_pair_in_page_state(label):
    state = ('<script>window.run = {"specsModule":{"props":[{"attrName":"' + label + '","attrNameId":2,'
             '"attrValue":"Lumo","attrValueId":"3426"},{"attrName":"Model","attrValue":"T300"}]}};</script>')
    assert extract_product(_page(body=state), url="https://market.example/item/1.html")["brand"] == "Lumo"


_SLIDES = ('<div class="slideshow">'
           '<a href="/m/cache/1/base/{h}/a/front.jpg" class="slide slide-active"><img src="/m/cache/1/base/283x283/{h}/a/front.jpg" width="283"></a>'
           '<a href="/m/cache/1/base/{h}/a/side.jpg" class="slide" style="display: none"><img src="/m/cache/1/base/283x283/{h}/a/side.jpg" width="283"></a>'
           '<a href="/m/cache/1/base/{h}/a/bloom.jpg" class="slide" style="display: none"><img src="/m/cache/1/base/283x283/{h}/a/bloom.jpg" width="283"></a>'
           '</div>').format(h="af097278c5db4767b0fe9bb92fe21690")


def test_the_shown_first_slide_leads_over_a_later_slide_named_as_og_image():
    facts = extract_product(_page('<meta property="og:image" content="https://shop.example/m/a/bloom.jpg">', _SLIDES),
                            url="https://shop.example/p/1")
    assert facts["images"][0].endswith("/a/front.jpg")
    assert any(u.endswith("/a/bloom.jpg") for u in facts["images"][1:])  # still the product's own, kept
    assert facts["provenance"]["images"]["sources"][1:].count("opengraph") == 1


def test_visible_thumbnails_do_not_reorder_the_structured_image():
    strip = ''.join(f'<li><img src="/img/{n}.jpg" width="300"></li>' for n in ("a", "b", "c"))
    facts = extract_product(_page('<meta property="og:image" content="https://shop.example/img/b.jpg">',
                                  f"<ul class='gallery'>{strip}</ul>"), url="https://shop.example/p/1")
    assert facts["images"][0] == "https://shop.example/img/b.jpg"


def test_a_zoom_link_names_the_same_picture_as_the_image_it_wraps():
    body = ('<a class="enlarge" itemprop="image" href="https://cdn.example/images2000x2000/lamp_300.jpg">'
            '<img id="main" src="https://static.example/images500x500/lamp_1472097112000_300.jpg"></a>')
    page = _page(body='<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Trail Lamp 300</span>'
                      f'{body}</div>')
    facts = extract_product(page, url="https://shop.example/p/1")
    assert facts["images"][0] == "https://cdn.example/images2000x2000/lamp_300.jpg"
    assert facts["provenance"]["images"]["lead_aliases"] == ["https://static.example/images500x500/lamp_1472097112000_300.jpg"]


def test_a_resized_cache_copy_is_the_same_picture():
    from catalog.ingest.normalise import image_identity
    original = "http://shop.example/media/catalog/product/1/0/10964_5.jpg"
    for copy in ("http://shop.example/media/catalog/product/cache/1/base/283x283/af097278c5db4767b0fe9bb92fe21690/1/0/10964_5.jpg",
                 "https://shop.example/media/catalog/product/cache/af097278c5db4767b0fe9bb92fe21690/1/0/10964_5.jpg"):
        assert image_identity(copy) == image_identity(original)
    assert image_identity(original) != image_identity(original.replace("10964", "10965"))


def test_bench_scores_the_main_image_against_the_pages_own_aliases_only():
    from catalog.bench.scrape import _match
    facts = {"images": ["https://cdn.example/zoom/lamp.jpg", "https://cdn.example/side.jpg"],
             "provenance": {"images": {"lead_aliases": ["https://cdn.example/500/lamp_v2.jpg"]}}}
    assert _match("image_main", "http://cdn.example/zoom/lamp.jpg?w=1", facts)
    assert _match("image_main", "https://cdn.example/500/lamp_v2.jpg", facts)
    assert not _match("image_main", "https://cdn.example/side.jpg", facts)  # another gallery picture


def test_a_reference_element_outranks_a_per_size_structured_sku():
    sizes = "".join(_jsonld(sku=f"84518927-040-{n}") for n in (35, 36, 37))
    body = '<p><span class="colour">Black</span> - <span data-qa-qualifier="product-reference">1002/710</span></p>'
    facts = extract_product(_page(sizes, body), url="https://shop.example/lamp-p11002710.html")
    assert facts["sku"] == "1002/710"


def test_a_bare_code_in_an_element_named_for_it_fills_a_missing_sku():
    body = '<div class="u-flL iti-act-num descItemNumber">302474151804</div><div class="sku-selector">M</div>'
    facts = extract_product(_page(body=body), url="https://shop.example/lamp")
    assert facts["sku"] == "302474151804"
    # a size picker or a label-only element named 'sku' is no code
    assert extract_product(_page(body='<div class="sku-title">Size: M</div>'), url="https://shop.example/lamp")["sku"] is None


def test_bench_compares_codes_without_their_printed_separators():
    from catalog.bench.scrape import _match
    assert _match("sku", "466/7999", {"sku": "4667999"})
    assert _match("gtin", "0 12345 67890 5", {"gtin": "012345678905"})
    assert not _match("sku", "466/7999", {"sku": "4667990"})


def test_a_content_h1_beats_a_site_slogan_title_that_names_nothing_on_the_page():
    html = ("<html><head><title>Medishop - Health for everyone</title></head><body>"
            "<nav><ul><li><h1>Health services</h1></li></ul></nav>"
            "<main><h1>Orthopaedic insoles made to measure with gait analysis</h1><p>270 kn</p></main></body></html>")
    assert extract_product(html, url="https://medishop.example/x")["title"] == \
        "Orthopaedic insoles made to measure with gait analysis"
    short = html.replace("Orthopaedic insoles made to measure with gait analysis", "Sale")
    assert extract_product(short, url="https://medishop.example/x")["title"] != "Sale"


def test_one_product_node_per_size_is_in_stock_when_any_size_is():
    import json
    def node(size, availability):
        return {"@context": "https://schema.org", "@type": "Product", "name": "Trail Lamp 300", "sku": f"L-{size}",
                "offers": {"@type": "Offer", "price": "10.00", "priceCurrency": "EUR",
                           "availability": f"https://schema.org/{availability}"}}
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(node(s, a))}</script>'
                      for s, a in ((35, "OutOfStock"), (36, "InStock"), (37, "OutOfStock")))
    facts = extract_product(_page(scripts), url="https://shop.example/lamp")
    assert facts["availability"] == "InStock" and len(facts["variants"]) == 3
    sold_out = scripts.replace("/InStock", "/OutOfStock")
    assert extract_product(_page(sold_out), url="https://shop.example/lamp")["availability"] == "OutOfStock"


@pytest.mark.parametrize("rendition,original", [
    ("https://cdn.example/s/files/1/products/lamp_800x800_crop_center.jpg", "https://cdn.example/s/files/1/products/lamp.jpg"),
    ("https://blog.example/wp-content/uploads/2020/05/lamp-300x300.jpg", "https://blog.example/wp-content/uploads/2020/05/lamp.jpg"),
    ("https://img.example/images/g/xt0AAOSwfC9XOf8d/s-l300.jpg", "https://img.example/images/g/xt0AAOSwfC9XOf8d/s-l1600.jpg"),
    ("https://res.example/demo/image/upload/w_500,h_500,c_fill/v1571/lamp.jpg", "https://res.example/demo/image/upload/v1571/lamp.jpg"),
    ("https://cdn.example/lamp@2x.png", "https://cdn.example/lamp.png"),
])
def test_cdn_size_variants_are_the_same_picture(rendition, original):
    from catalog.ingest.normalise import image_identity
    assert image_identity(rendition) == image_identity(original)
    assert image_identity(rendition) != image_identity(original.replace("lamp", "stove").replace("xt0AAOS", "zz9AAOS"))


def _product_json(title, price, sku, script_id):
    import json
    data = {"id": 1, "title": title, "handle": "x", "vendor": "Lumo", "available": True,
            "images": ["//cdn.example/s/files/1/products/lamp_front.jpg", "//cdn.example/s/files/1/products/lamp_side.jpg"],
            "options": ["Colour"], "variants": [
                {"title": "Red", "sku": sku, "price": price, "compare_at_price": price + 2000, "available": False, "option1": "Red"},
                {"title": "Blue", "sku": sku + "B", "price": price, "compare_at_price": None, "available": True, "option1": "Blue",
                 "barcode": "4006381333931"}]}
    return f'<script type="application/json" id="{script_id}">{json.dumps(data)}</script>'


def test_embedded_storefront_product_json_in_minor_units():
    html = ("<html><head><title>Trail Lamp 300 – Lumo</title>"
            '<meta property="og:price:currency" content="EUR"></head><body><h1>Trail Lamp 300</h1>'
            + _product_json("Camp Stove 2", 4900, "STOVE", "ProductJson-quick-view")
            + _product_json("Trail Lamp 300", 10900, "LAMP-300", "ProductJson-product-template") + "</body></html>")
    facts = extract_product(html, url="https://lumo.example/products/trail-lamp-300")
    assert (facts["price"], facts["currency"], facts["sku"]) == ("109", "EUR", "LAMP-300B")  # first available
    assert facts["brand"] == "Lumo" and facts["gtin"] == "4006381333931"
    assert facts["images"][0] == "https://cdn.example/s/files/1/products/lamp_front.jpg"
    assert [v["attributes"] for v in facts["variants"]] == [{"Colour": "Red"}, {"Colour": "Blue"}]


def test_embedded_product_json_of_another_product_only_is_ignored():
    html = ("<html><head><title>Trail Lamp 300</title></head><body><h1>Trail Lamp 300</h1><p class='price'>€12,00</p>"
            + _product_json("Camp Stove 2", 4900, "STOVE", "ProductJson-quick-view") + "</body></html>")
    facts = extract_product(html, url="https://lumo.example/products/trail-lamp-300")
    assert facts["price"] == "12" and facts["sku"] != "STOVE"


@pytest.mark.parametrize("body,field,value", [
    ("<p>Codice articolo: AB12345</p>", "sku", "AB12345"),                      # it
    ("<p>Kod produktu: 55-1234</p>", "sku", "55-1234"),                          # pl
    ("<p>Ürün kodu: TR9981</p>", "sku", "TR9981"),                               # tr
    ("<p>Varenummer: 778812</p>", "sku", "778812"),                              # no/da
    ("<dl><dt>Style #</dt><dd>CW2288-111</dd></dl>", "sku", "CW2288-111"),       # apparel
    ('<p>מק"ט: 4455661</p>', "sku", "4455661"),                                   # he
    ("<p>EAN-Code: 4006381333931</p>", "gtin", "4006381333931"),                  # de
    ("<p>Código de barras: 7501031311309</p>", "gtin", "7501031311309"),          # es
    ("<p>Штрихкод: 4607001771562</p>", "gtin", "4607001771562"),                  # ru
])
def test_more_code_labels(body, field, value):
    assert extract_product(_page(body=body), url="https://shop.example/x")[field] == value


@pytest.mark.parametrize("label", ["Varumärke", "Márka", "Μάρκα", "Thương hiệu", "Merek", "Марка"])
def test_brand_rows_in_more_languages(label):
    body = f"<table><tr><th>{label}</th><td>Lumo</td></tr><tr><th>Colour</th><td>Red</td></tr></table>"
    assert extract_product(_page(body=body), url="https://shop.example/x")["brand"] == "Lumo"


def test_payment_badges_spinners_and_headshots_are_never_pictures_of_the_product():
    body = ('<div class="gallery"><img src="/img/spinner.gif" width="400"><img src="/pics/paypal/imgECheck.gif" width="300">'
            '<img src="/explora/authors/jane-doe_1.png" width="300"><img src="/doodles/Halloween_small_doodle_150x30.jpg" width="300">'
            '<img src="/products/trail-lamp-300.jpg" alt="Trail Lamp 300" width="600"></div>')
    facts = extract_product(_page(body=body), url="https://shop.example/p/1")
    assert facts["images"] == ["https://shop.example/products/trail-lamp-300.jpg"]


@pytest.mark.parametrize("prefix,field", [
    ("007_", "mpn"), ("009_", "sku"), ("018_", "sku"), ("018_", "mpn"), ("020_", "sku"), ("023_", "sku"),
    ("023_", "availability"), ("024_", "mpn"), ("029_", "title"), ("034_", "sku"), ("051_", "image_main"),
    ("054_", "image_main"), ("074_", "brand"),
])
def test_round3_failing_corpus_pages_now_match_the_manifest(corpus_dir, prefix, field):
    """The real pages behind the rules above (skipped when ../shared is absent)."""
    import json
    from catalog.bench.scrape import score_page
    entry = next(e for e in json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
                 if e["file"].split("/")[-1].startswith(prefix))
    facts = extract_product((corpus_dir / entry["file"]).read_bytes())
    assert score_page(entry, facts)[field], (field, facts.get(field), entry["expected"].get(field))
