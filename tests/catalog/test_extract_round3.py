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
