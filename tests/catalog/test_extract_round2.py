"""Generic heuristics added for the second accuracy round, each on a tiny synthetic page."""
from catalog.ingest.extract import extract_product


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f'<html lang="{lang}"><head><title>Shop</title>{head}</head><body>{body}</body></html>'


def test_split_price_parts_are_not_prices():
    html = page('<h1>Desk Lamp</h1>\n<div class="box"><span class="price-fraction">99</span></div>'
                + '<p>lorem</p>\n' * 3 + '<span class="price">$12.99</span>')  # lines: document order
    assert extract_product(html)["price"] == "12.99"


def test_unstyled_sale_price_after_a_struck_list_price():
    html = page('<h1>Camp Sink Set</h1><table><tr><td>List price <del>$3200</del> 元</td></tr>'
                '<tr><td>Special <b>72</b> <span style="color:red">2320</span><span> 元 </span></td></tr></table>',
                lang="zh-TW")
    facts = extract_product(html, url="https://shop.example.tw/p/1")
    assert (facts["price"], facts["original_price"]) == ("2320", "3200")


def test_promotional_amounts_and_widget_prices_are_not_the_price():
    html = page('<h1>Tully Wall Sconce</h1><p>This item is no longer available.</p>'
                '<p>Earn $25 back in rewards for every $250 spent.</p>'
                '<div class="carousel"><p>Other lamp</p><p>$239.99</p></div>')
    assert extract_product(html)["price"] is None


def test_bulk_total_is_not_the_item_price():
    html = page('<h1>The Whole Story</h1><span class="bulk-total-price">$17.01</span>'
                '<span class="price">$10.99</span>')
    assert extract_product(html)["price"] == "10.99"


def test_slider_named_price_block_is_read():
    html = page('<h1>Custom Insoles</h1><div class="hero-slider-price"><span class="hero-slider-pricenew">'
                '270,00 Kn</span></div>' + '<p>text</p>\n' * 30 +
                '<a class="card" href="/other"><span class="price">169,00 Kn</span></a>')
    assert extract_product(html)["price"] == "270"


def test_price_range_reads_as_its_low_end():
    html = page('<h1>Acrylic Case 60%</h1>\n<div class="detail-price"><strong>¥149.00 - 159.00</strong></div>'
                + '<p>text</p>\n' * 30 + '<p class="now-price">¥799.00</p>', lang="zh-CN")
    facts = extract_product(html)
    assert (facts["price"], facts["currency"]) == ("149", "CNY")


def test_you_may_like_prices_are_a_widget():
    html = page('<h1>Phone SE</h1><div class="may-like-item"><div class="may-like-price">€ 102,02</div></div>'
                '<div class="product-price">€ 97,39</div>')
    assert extract_product(html)["price"] == "97.39"


def test_meta_sale_price_beats_a_structured_list_price_it_names():
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", '
          '"name": "Keystick Sconce", "offers": {"@type": "Offer", "price": "150.00", "priceCurrency": "USD"}}'
          '</script>')
    meta = ('<meta property="og:price:standard_amount" content="150.00">'
            '<meta property="product:price:amount" content="120.00">'
            '<meta property="product:price:currency" content="USD">')
    facts = extract_product(page("<h1>Keystick Sconce</h1>", head=ld + meta))
    assert (facts["price"], facts["original_price"]) == ("120", "150")
    assert facts["provenance"]["price"]["source"] == "opengraph"
