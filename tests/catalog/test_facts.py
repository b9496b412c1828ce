"""ProductFacts, the spine's first link: validated on read, storage keys only, rejected facts
carried; and the sanity pass that decides which extracted facts an ad may use."""
import pytest
from pydantic import ValidationError

from catalog.facts import ProductFacts
from catalog.ingest.normalise import parse_price_text
from catalog.ingest.sanity import facts_sanitise, is_marketplace_brand, policy_reason

FACTS = {"title": "Aurora Insulated Bottle", "brand": "Aurora", "price": "24.99", "currency": "EUR",
         "original_price": "34.99", "images": ["https://shop.example/a.jpg"], "features": ["Keeps cold 24 h"],
         "rating": 4.6, "review_count": 120}


def test_round_trip_keeps_the_writers_dict_shape():
    facts = ProductFacts.from_facts_dict(FACTS)
    again = ProductFacts.model_validate_json(facts.model_dump_json())
    assert again == facts and str(again.price.amount) == "24.99" and again.price.currency == "EUR"
    data = again.as_script_input()
    assert data["price"] == "24.99" and data["original_price"] == "34.99" and data["images"] == FACTS["images"]
    assert "rejected" not in data


def test_a_renamed_field_fails_validation():
    good = ProductFacts.from_facts_dict(FACTS).model_dump(mode="json")
    renamed = {**good, "image_files": good.pop("images")}  # the bug this spine exists to stop
    with pytest.raises(ValidationError, match="image_files"):
        ProductFacts.model_validate(renamed)
    with pytest.raises(ValidationError, match="amount"):
        ProductFacts.model_validate({**good, "price": {"value": "24.99", "currency": "EUR"}})


def test_image_keys_cannot_climb_out_of_storage_or_be_urls():
    with pytest.raises(ValidationError, match="storage key"):
        ProductFacts.model_validate({"title": "x", "images": [{"key": "../../etc/passwd"}]})
    with pytest.raises(ValidationError, match="storage key"):
        ProductFacts.model_validate({"title": "x", "images": [{"key": "https://evil.example/a.jpg"}]})


def test_unknown_currency_is_never_a_dollar():
    from generation.video.timeline import format_money, product_values
    facts = ProductFacts.from_facts_dict({**FACTS, "currency": None, "original_price": None})
    assert product_values(facts)["price"] == "24.99"
    assert format_money("1299", "PLN") == "1\u202f299 zł" and format_money("1299", "JPY") == "¥1,299"
    assert format_money("10", "XYZ") == "10 XYZ"


# Failing examples taken from the shared corpus and the issue (eBay pages named "eBay" the brand,
# a student discount and refund fees became features).
@pytest.mark.parametrize("brand,title,url,site,rejected", [
    ("eBay", "Duracell CR2032 3V Lithium", "https://www.ebay.fr/itm/293565036718", "eBay", True),
    ("Ali", "Cheese slicer stainless", "https://www.alibaba.com/product-detail/x.html", "Alibaba", True),
    ("Amazon", "Gothamite Duffle", "https://www.amazon.com/dp/B01", None, True),
    ("Amazon", "Amazon Echo Dot (5th Gen)", "https://www.amazon.com/dp/B09", None, False),
    ("Nike", "Auralux Bag", "https://www.nike.com/t/auralux", "Nike", False),
    ("Duracell", "Duracell CR2032", "https://www.ebay.fr/itm/1", "eBay", False),
    # a Korean marketplace's seller tag (corpus page 027), wherever the page was fetched from
    ("[타임커머스 티몬]", "좋은생각 : 정기구독 1년", "http://127.0.0.1:8080/product.html", None, True),
    ("[Nike]", "Air Zoom Pegasus", "https://www.nike.com/t/1", None, False),
])
def test_a_retailer_is_not_the_brand(brand, title, url, site, rejected):
    assert is_marketplace_brand(brand, title=title, url=url, site_name=site) is rejected


@pytest.mark.parametrize("text,kind", [
    ("500€ per Studenti", "shop promotion"),
    ("La livraison en 1 jour ouvré gratuite et illimitée", "delivery or shipping terms"),
    ("Free returns within 30 days", "returns or refund policy"),
    ("Pay in 4 interest-free installments with Klarna", "payment terms"),
    ("We use cookies to improve your experience", "cookie or privacy notice"),
    ("반품 배송비 5,000원", "delivery or shipping terms"),
    ("Keeps drinks cold for 24 hours", None),
    ("05. 소비자상담 관련 전화번호 좋은생각사람들 고객센터 02-337-0332", "customer service contact"),
    ("거래에 관한 약관의 내용 웹 페이지 하단 이용약관 참조", "terms of sale"),
    # review-widget rows read as specs on corpus pages 039, 044 and 046
    ("Fit Fits Small Fits Big Fit, average rating value is 3 of 5.", "review widget text"),
    ("Helpful? Yes · 3 3 people found this review helpful. Click to agree.", "review widget text"),
    ("Overall ★★★★★ ★★★★★ 4.6", "review widget text"),
    ("Rated 5 stars for comfort", None),
    ("Dishwasher safe", None),
])
def test_policy_text_is_not_a_feature(text, kind):
    assert policy_reason(text) == kind


def test_sanitise_records_every_rejection_with_a_reason():
    raw = {**FACTS, "brand": "eBay", "original_price": "249.99", "features": ["Leak-proof", "Free shipping"],
           "rating": 4.8, "review_count": None}
    usable, rejected = facts_sanitise(raw, url="https://www.ebay.com/itm/1")
    assert usable["brand"] is None and usable["original_price"] is None and usable["rating"] is None
    assert usable["features"] == ["Leak-proof"] and raw["brand"] == "eBay"  # input untouched
    fields = {r["field"]: r["reason"] for r in rejected}
    assert set(fields) == {"brand", "original_price", "features", "rating"}
    assert "3×" in fields["original_price"] and "review count" in fields["rating"]
    facts = ProductFacts.from_facts_dict({**usable, "rejected": rejected})
    assert len(facts.rejected) == 4 and facts.rejected[0].reason


def test_spec_rows_of_shop_policy_are_not_specifications():
    """Corpus page 027 (a Korean marketplace): its spec table is the legal disclosure block —
    exchanges, refunds, delivery, customer service — and an ad once read those rows out."""
    specs = {"교환시": "6,000원 동일상품 및 동일 옵션으로만 교환이 가능하며 ... 배송비 입금을 요청드릴 수 있습니다.",
             "환불시": "왕복 6,000원 고객 단순 변심의 경우에만 발생되며 ... 환불됩니다.",
             "05. 소비자상담 관련 전화번호": "좋은생각사람들 고객센터 02-337-0332",
             "02. 소유권 이전 조건": "해당사항없음", "Shipping Weight": "2.1 kg", "Compatibility": "N/A",
             "01. 품명 및 모델명": "좋은생각 : 정기구독 1년", "Material": "Stainless steel",
             "Additives": "None", "添加剂": "无"}  # "none" is a fact about the product, not "N/A"
    usable, rejected = facts_sanitise({**FACTS, "specs": specs})
    assert usable["specs"] == {"01. 품명 및 모델명": "좋은생각 : 정기구독 1년", "Material": "Stainless steel",
                               "Additives": "None", "添加剂": "无"}
    reasons = {r["value"].split(":")[0]: r["reason"] for r in rejected if r["field"] == "specs"}
    assert reasons["교환시"].startswith("delivery or shipping terms") and reasons["환불시"].startswith("returns")
    assert reasons["05. 소비자상담 관련 전화번호"].startswith("customer service contact")
    assert "nothing applies" in reasons["02. 소유권 이전 조건"] and "nothing applies" in reasons["Compatibility"]
    assert len(reasons) == 6 and specs["Compatibility"] == "N/A"  # input untouched


def test_rating_outside_the_scale_is_not_social_proof():
    _, rejected = facts_sanitise({**FACTS, "rating": 9.2, "review_count": 40})
    assert rejected == [{"field": "rating", "value": "9.2", "reason": "outside the 0–5 star scale: not social proof"}]


@pytest.mark.parametrize("text,hints,amount,currency", [
    ("1.299,00 €", ["de"], "1299.00", "EUR"),
    ("1 299,00 zł", ["pl"], "1299.00", "PLN"),
    ("¥1,299", ["jp"], "1299", "JPY"),
    ("from $19.99", [], "19.99", "USD"),
    ("£10.00 - £20.00", ["gb"], "10.00", "GBP"),
])
def test_locale_true_prices(text, hints, amount, currency):
    from decimal import Decimal
    got, cur = parse_price_text(text, hints=hints)
    assert (got, cur) == (Decimal(amount), currency)


@pytest.mark.parametrize("url,junk", [
    ("https://m.media-amazon.com/images/I/6163z-yieOL._AC_SX679_.jpg", False),
    ("https://m.media-amazon.com/images/I/6163z-yieOL._AC_SS40_.jpg", True),
    ("https://i.ebayimg.com/images/g/xt0AAOSw/s-l64.jpg", True),
    ("https://i.ebayimg.com/images/g/xt0AAOSw/s-l1000.jpg", False),
    ("https://shop.example/static/icons/cart.png", True),
    ("https://shop.example/sprite-2x.png", True),
    ("https://shop.example/img/visa-payment-icon.png", True),
    ("https://tile.openstreetmap.org/12/2048/1361.png", True),
    ("https://www.facebook.com/tr?id=1&ev=PageView", True),
    ("https://cdn.shopify.com/s/files/1/products/bottle_50x50.jpg", True),
    ("https://cdn.shopify.com/s/files/1/products/bottle_1024x1024.jpg", False),
])
def test_obvious_non_product_images_are_not_fetched(url, junk):
    from catalog.ingest.images import junk_image_reason
    assert (junk_image_reason(url) is not None) is junk


def test_images_are_fetched_concurrently_within_a_per_host_limit(settings):
    """Real loopback server that records how many requests overlap; order is kept, junk never asked."""
    import http.server
    import threading
    import time
    from catalog.ingest import images as images_mod
    from generation.jobs.bench.truth import standin_picture

    state = {"now": 0, "peak": 0, "paths": []}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
                state["paths"].append(self.path)
            time.sleep(0.15)
            body = standin_picture(int(self.path.split("/")[-1].split(".")[0]))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock:
                state["now"] -= 1

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        urls = [f"http://{host}/img/{n}.png" for n in range(1, 9)] + [f"http://{host}/icons/{99}.png"]
        got = images_mod.images_download(urls, allowed_hosts=[host])
    finally:
        server.shutdown()
        server.server_close()
    assert [g.url for g in got] == urls[:8]  # main first, order kept, 8 distinct pictures
    assert 2 <= state["peak"] <= images_mod.IMAGE_FETCH_PER_HOST  # concurrent, and polite
    assert not any("/icons/" in p for p in state["paths"])
