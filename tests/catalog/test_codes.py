"""SKU / MPN / GTIN from labels in many languages and from the shop's address (failing
examples from the shared corpus, written as minimal pages)."""
import pytest

from catalog.ingest.extract import extract_product
from catalog.ingest.extract.codes import clean_code, sku_from_url


@pytest.mark.parametrize("body,field,value", [
    ('<p class="prd-code">Product code: 287807</p>', "sku", "287807"),
    ('<div class="item-code">Item: SB00260</div>', "sku", "SB00260"),
    ('<span class="item-number">Item #489021</span>', "sku", "489021"),
    ('<span class="element-article">Код: 73556</span>', "sku", "73556"),
    ('<li><strong>Šifra:</strong> 0638</li>', "sku", "0638"),
    ('<table><tr><th>Model Number</th><td>A157S546</td></tr></table>', "mpn", "A157S546"),
    ("<table><tr><th>Numéro du modèle de l'article</th><td>PTV17-16912</td></tr></table>", "mpn", "PTV17-16912"),
    ('<p>Produktové číslo: MQ2Y2SL/A</p><p>EAN: 190198419941</p>', "gtin", "190198419941"),
    ('<li><span>UPC : </span> <span>099482467999</span></li>', "gtin", "099482467999"),
])
def test_labelled_codes(body, field, value):
    html = f"<html><head><title>Thing</title></head><body><h1>Thing</h1><p>$10.00</p>{body}</body></html>"
    assert extract_product(html, url="https://shop.example/thing")[field] == value


@pytest.mark.parametrize("url,sku", [
    ("https://www.amazon.com/Gothamite-36-inch-Rolling/dp/B01GOH7PKA", "B01GOH7PKA"),
    ("https://www.ebay.fr/itm/4x-Duracell-CR2032-/293565036718", "293565036718"),
    ("https://he.aliexpress.com/item/32993251330.html", "32993251330"),
    ("http://www.tmon.co.kr/deal/4548094738", "4548094738"),
    ("https://www.johnlewis.com/google-nest-mini/chalk/p4781720", "4781720"),
    ("https://www.pcstore.com.tw/powerbus/M14876706.htm", "M14876706"),
    ("https://shop.example/collections/all", None),
])
def test_the_address_names_the_product(url, sku):
    assert sku_from_url(url) == sku


def test_a_page_without_a_code_takes_the_address_id_at_low_confidence():
    html = "<html><head><title>Thing</title></head><body><h1>Thing</h1><p>$10.00</p></body></html>"
    facts = extract_product(html, url="https://www.amazon.com/Thing/dp/B00N150YS4")
    assert facts["sku"] == "B00N150YS4" and facts["provenance"]["sku"]["confidence"] <= 0.3


def test_clean_code():
    assert clean_code("sku:CAE5D4") == "CAE5D4" and clean_code("\u200e6012110") == "6012110"
