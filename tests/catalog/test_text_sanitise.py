"""#10.8: text from a page is cleaned before it reaches the database: a NUL byte, control
characters or a lone surrogate in a title (or anywhere in the facts JSON) used to crash the
save (PostgreSQL refuses NUL in text and jsonb)."""
import json

import pytest

from catalog.models import Product, ProductSnapshot
from catalog.services import product_ingest
from catalog.text import db_text_clean
from tenancy.context import tenant_context
from tenancy.models import Workspace

pytestmark = pytest.mark.django_db

DIRTY = "Canvas\x00 Tote\x07\x1b[31m \ud800Deluxe"


def test_db_text_clean_is_deep_and_keeps_ordinary_whitespace():
    value = {"title": DIRTY, "features": ["a\x00b", {"k\x00": "tab\there\nnew line"}], "n": 3, "p": None}
    assert db_text_clean(value) == {"title": "Canvas Tote[31m Deluxe",
                                    "features": ["ab", {"k": "tab\there\nnew line"}], "n": 3, "p": None}


def test_nul_and_control_characters_in_a_title_do_not_crash_the_save(shop, settings):
    settings.CATALOG_BROWSER_ENABLED = False
    data = {"@context": "https://schema.org", "@type": "Product", "name": DIRTY, "brand": "Sail\x00cloth",
            "description": "Line one\x00\nLine two\x0c", "offers": {"@type": "Offer", "price": "59.00",
                                                                   "priceCurrency": "USD"}}
    shop.html("/dirty", f'<html><head><title>x</title><script type="application/ld+json">{json.dumps(data)}'
                        f'</script></head><body><h1>Canvas Tote</h1></body></html>')
    a = Workspace.objects.create(name="A", slug="a-dirty")
    b = Workspace.objects.create(name="B", slug="b-dirty")
    with tenant_context(a):
        product = product_ingest(workspace=a, url=f"{shop.origin}/dirty")
        assert product.title.startswith("Canvas") and product.title.isprintable()
        assert product.brand == "Sailcloth" and product.description.replace("\n", " ") == "Line one Line two"
        snapshot = ProductSnapshot.objects.get(product=product)
        assert "\x00" not in json.dumps(snapshot.extraction)
    with tenant_context(b):
        assert Product.objects.count() == 0
