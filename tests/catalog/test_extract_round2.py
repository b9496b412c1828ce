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


def test_thumbnail_strip_and_logo_lose_to_the_main_picture():
    html = page('<h1>Atomic Wall Clock</h1>\n<img src="https://shop.example/i/mark.png" alt="Shop logo">\n'
                '<ul class="more-views"><li><img class="gallery-item" src="https://shop.example/i/clock-side.jpg"'
                ' data-large-image="https://shop.example/i/clock-side-big.jpg" alt=""></li></ul>\n'
                '<div id="main-image"><img class="zoomable" src="https://shop.example/i/clock-front.jpg" alt=""></div>')
    assert extract_product(html)["images"][0] == "https://shop.example/i/clock-front.jpg"


def test_repeated_product_cards_lose_to_the_lone_main_picture():
    cards = "".join(f'<li class="card"><a href="/p/{n}"><img class="primary-img" src="https://shop.example/{n}.jpg"'
                    f' alt="Cotton Cardigan"></a></li>' for n in range(4))
    html = page('<h1>Cotton Cardigan</h1>\n<div class="viewer"><a href="/reviews/123">'
                '<img src="https://shop.example/main.jpg" alt="Cotton Cardigan"></a></div>\n'
                f'<ul class="grid">{cards}</ul>')
    assert extract_product(html)["images"][0] == "https://shop.example/main.jpg"


def test_fuller_url_of_the_structured_image_and_thumbnail_meta_image():
    head = '<meta property="og:image" content="https://img.example/is/image/Shop/Maker17">'
    body = ('<h1>Coffee Maker</h1><img class="hero" alt="Coffee Maker"'
            ' src="https://img.example/is/image/Shop/Maker17/$hero$/coffee-maker.jpg">')
    assert extract_product(page(body, head=head))["images"][0].endswith("/$hero$/coffee-maker.jpg")
    head = '<meta property="og:image" content="https://shop.example/library/small/lock_s.jpg">'
    body = '<h1>U-Lock</h1><div class="detail-picture"><img src="https://shop.example/library/large/lock_m.jpg"></div>'
    assert extract_product(page(body, head=head))["images"][0] == "https://shop.example/library/large/lock_m.jpg"


def test_relative_images_resolve_on_base_href_or_the_pages_own_origin():
    body = '<h1>Mesh Leggings</h1><img class="product-photo" src="/content/leggings.jpg">'
    with_base = page(body, head='<base href="https://www.shop.example/">')
    assert extract_product(with_base)["images"][0] == "https://www.shop.example/content/leggings.jpg"
    links = "".join(f'<a href="http://www.shop.example/c/{n}">c{n}</a>' for n in range(6))
    links += '<a href="https://social.example/share">share</a>'
    assert extract_product(page(links + body))["images"][0] == "http://www.shop.example/content/leggings.jpg"
    assert extract_product(page(body))["images"] == []  # no origin to be had: nothing invented


def test_brand_from_a_page_state_object_naming_the_product():
    state = ('<script>analytics.track("Viewed Product", {"name": "7\'0 Fish Board Twin", "price": "955.00",'
             ' "brand": "Shaper Co"});</script>'
             '<script>window.__STATE__ = {"product": {"name": "TP-Link Tapo Camera C200", "brand": "TP Link"},'
             ' "related": [{"name": "Other Thing", "brand": "Nope"}]};</script>')
    facts = extract_product(page("<h1>7'0 Fish Board Twin</h1>", head=state))
    assert facts["brand"] == "Shaper Co"
    assert "state" in facts["provenance"]["brand"]["note"]
    facts = extract_product(page("<h1>TP-Link Tapo Camera C200</h1>", head=state))
    assert facts["brand"] == "TP-Link"  # spelled as the product name spells it
    assert extract_product(page("<h1>Unrelated Garden Hose</h1>", head=state))["brand"] is None


def test_brand_from_an_inline_label_and_from_a_brand_logo():
    html = page('<h1>Stick-on Reading Lenses</h1><ul><li><strong>Proizvajalec:</strong> <a href="/m/13">B&amp;S</a>'
                '</li><li><strong>Šifra:</strong> 0638</li></ul>')
    assert extract_product(html)["brand"] == "B&S"
    html = page('<h1>Atomic Clock 513</h1><div class="product-brand"><a href="/lc/">'
                '<img src="/media/brands/6.png" title="La Crosse Technology"></a></div>')
    assert extract_product(html)["brand"] == "La Crosse Technology"


def test_brand_line_beside_the_product_name():
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",'
          ' "name": "USB cable type C"}</script>')
    html = page('<h1><span class="heading-copy">Teenage Engineering</span>'
                '<span class="product-name">USB cable type C</span></h1>', head=ld)
    facts = extract_product(html)
    assert (facts["title"], facts["brand"]) == ("USB cable type C", "Teenage Engineering")
    html = ('<html><head><title>Mesmeri Halo Chrome - Artemide - Eric Sole - from Icone</title></head>'
            '<body><h1>Mesmeri Halo Chrome</h1><h2>Artemide</h2><h3>Eric Sole</h3></body></html>')
    assert extract_product(html)["brand"] == "Artemide"


def test_shop_name_fallback_drops_store_wrappers_and_labels():
    html = ('<html><head><title>Tsum Tsum Plush Set | Disney Store</title>'
            '<meta property="og:site_name" content="Disney Store"></head><body><h1>Tsum Tsum Plush Set</h1></body></html>')
    assert extract_product(html)["brand"] == "Disney"
    html = page('<h1><span class="u-hidden">Details about</span> Pony Harness Set</h1>',
                head='<meta property="og:title" content="Pony Harness Set">')
    assert extract_product(html)["brand"] != "Details about"


def test_logo_and_icon_filters_keep_product_pictures():
    html = ('<html><head><title>Polo Shirt With Logo | Shop</title></head><body><h1>Polo Shirt With Logo</h1>\n'
            '<img src="https://shop.example/i/mark.png" alt="Shop logo">\n'
            '<img src="https://shop.example/p/polo-1-2.jpg" alt="Polo shirt with logo">\n'
            '<img src="https://shop.example/i/cart-16-16.png" alt=""></body></html>')
    assert extract_product(html)["images"] == ["https://shop.example/p/polo-1-2.jpg"]
