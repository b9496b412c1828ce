"""Blocked pages served with HTTP 200 fail with a reason; real product pages never do."""
import pytest

from catalog.ingest.blocked import block_reason
from catalog.ingest.charset import decode_html
from catalog.ingest.extract import extract_product, has_product

CAPTCHA = """<html><head><title>Amazon.com</title></head><body><h4>Enter the characters you see below</h4>
<p>Sorry, we just need to make sure you're not a robot.</p><form action="/errors/validateCaptcha">
<img src="https://images-na.ssl-images-amazon.com/captcha/abc/Captcha_x.jpg"><input name="field-keywords">
</form></body></html>"""
RECAPTCHA = """<html><head><title>Just a moment...</title></head><body><div class="g-recaptcha"
data-sitekey="x"></div><p>Checking your browser before accessing the shop.</p></body></html>"""
ROBOT = "<html><head><title>Robot Check</title></head><body><p>Please verify you are a human</p></body></html>"
LOGIN = """<html><head><title>Sign in to continue</title></head><body><h1>Welcome back</h1>
<form><input name="email"><input type="password" name="pw"><button>Log in</button></form></body></html>"""
NOT_FOUND = """<html><head><title>Page not found | Shop</title></head><body><h1>Oops!</h1>
<p>We looked everywhere.</p><img src="/lost.png"></body></html>"""
NOT_FOUND_DE = "<html><head><title>Shop</title></head><body><h1>Seite nicht gefunden</h1></body></html>"


@pytest.mark.parametrize("html, word", [(CAPTCHA, "captcha"), (RECAPTCHA, "CAPTCHA"), (ROBOT, "robot check"),
                                        (LOGIN, "sign in"), (NOT_FOUND, "does not exist"), (NOT_FOUND_DE, "does not exist")])
def test_blocked_pages_have_a_reason(html, word):
    facts = extract_product(html, url="https://shop.example/p/1")
    reason = block_reason(html, facts=facts)
    assert reason and word.lower() in reason.lower()


def test_product_page_with_review_recaptcha_is_not_blocked():
    html = """<html><head><title>Steel Kettle</title><script type="application/ld+json">
    {"@context":"https://schema.org","@type":"Product","name":"Steel Kettle",
     "offers":{"@type":"Offer","price":"25.00","priceCurrency":"GBP"}}</script></head>
    <body><h1>Steel Kettle</h1><div class="g-recaptcha" data-sitekey="k"></div></body></html>"""
    facts = extract_product(html)
    assert has_product(facts) and block_reason(html, facts=facts) is None


def test_no_corpus_page_is_flagged(corpus_dir):
    for page in sorted((corpus_dir / "pages").glob("*.html")):
        data = page.read_bytes()
        facts = extract_product(data)
        assert block_reason(decode_html(data)[0], facts=facts) is None, page.name
