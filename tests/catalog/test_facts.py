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
