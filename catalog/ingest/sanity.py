"""Sanity of extracted facts, before anything is said about them in an ad.

Extraction reports what a page says; this pass decides what a video may *use*. A value that
fails a check is removed from the facts and recorded as ``{field, value, reason}`` (stored on
the Product as ``rejected_facts``, shown in the preview and the API, carried by
``ProductFacts.rejected``):

- an "original price" more than ``MAX_DISCOUNT_RATIO`` × the price, not above it, or in
  another currency is not a discount;
- a retailer or marketplace (eBay, Amazon, Walmart, AliExpress, Etsy, ..., or the shop's own
  name on a marketplace) is not the brand, unless the product's name starts with it
  ("Amazon Echo Dot");
- delivery, returns, payment, cookie, newsletter, shop-promotion, customer-service,
  terms-of-sale and review-widget text is not a feature, nor a specification (in a spec row's
  name or value);
  a spec whose value only says nothing applies ("N/A") is dropped too;
- a rating outside the 0–5 scale, or one with no review count, is not social proof.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

MAX_DISCOUNT_RATIO = Decimal("3")
MARKETPLACES = (
    "ebay", "amazon", "walmart", "aliexpress", "alibaba", "etsy", "temu", "shein", "wish", "rakuten",
    "mercado libre", "mercadolibre", "allegro", "otto", "zalando", "target", "best buy", "bestbuy",
    "costco", "flipkart", "jd", "jd.com", "taobao", "tmall", "wildberries", "ozon", "yandex market",
    "bol.com", "cdiscount", "newegg", "argos", "currys", "john lewis", "mediamarkt", "fnac", "coupang",
    "tokopedia", "shopee", "lazada", "noon", "namshi", "kaufland", "wayfair", "overstock", "tmon",
    # their names in their own scripts
    "티몬", "쿠팡", "11번가", "지마켓", "g마켓", "天猫", "淘宝", "京东", "拼多多", "楽天",
)
_BRACKETED = re.compile(r"^\s*[\[【(（]\s*(.+?)\s*[\]】)）]\s*$")
# Policy and shop text that pages put in bullet lists next to real features (several languages).
_POLICY = [
    ("delivery or shipping terms", r"\b(free )?(shipping|delivery|dispatch|shipped|ships)\b|livraison|lieferung|versand"
                                  r"|env[ií]o|spedizion|consegna|entrega|verzending|dostawa|доставк|配送|送料|包邮|운송|배송"),
    ("returns or refund policy", r"\breturns?\b|\brefunds?\b|money[- ]back|remboursement|retour|r[üu]ckgabe|umtausch"
                                 r"|devoluci[oó]n|reembolso|rimborso|reso\b|zwrot|возврат|退货|返品|환불|반품"),
    ("payment terms", r"\bpay(ment)?s?\b|paypal|klarna|afterpay|clearpay|installments?|instalments?|financing"
                      r"|\bcredit card|paiement|zahlung|ratenzahlung|pago|pagamento|rateale|płatnoś|оплат|付款|支払|결제"),
    ("cookie or privacy notice", r"\bcookies?\b|privacy|datenschutz|confidentialit"),
    ("shop promotion", r"\bstudents?\b|studenti|[ée]tudiant|\bcoupons?\b|vouchers?|promo(tion)? code|discount code"
                       r"|newsletter|sign up|subscribe|gift card|loyalty|member(ship)? (price|deal)|rabatt|sconto"),
    ("warranty or service sign-up", r"\bwarranty registration|extended warranty|protection plan|assurance"),
    ("customer service contact", r"customer (service|care|support)|kundenservice|service client|atenci[oó]n al cliente"
                                 r"|servizio clienti|고객센터|客服|カスタマーサービス|お問い合わせ"),
    ("terms of sale", r"terms (and|&) conditions|terms of (use|service|sale)|\bagb\b|conditions g[ée]n[ée]rales"
                      r"|t[ée]rminos y condiciones|termini e condizioni|이용약관|약관|利用規約|服务条款"),
    # Review widgets (Bazaarvoice and the like) render their rows as label/value pairs too:
    # "Overall: ★★★★★ 5.0", "Fit: Fits Small … average rating value is 3 of 5", "Helpful?: Yes · 3".
    ("review widget text", r"found this (review )?helpful|was this review helpful|average rating value|click to agree"
                           r"|[☆★]{3,}"),
]
# A spec whose value says only that the row does not apply ('N/A', Korean disclosure tables'
# 해당사항없음). Not a bare "none": "Additives: none" is a fact about the product.
_NO_VALUE = re.compile(r"^\W*(n/a|not applicable|nicht zutreffend|sans objet|no aplica|non applicabile"
                       r"|해당\s*사항\s*없음|해당\s*없음|不适用|該当なし)\W*$", re.I)
_POLICY_RE = [(reason, re.compile(pattern, re.I)) for reason, pattern in _POLICY]


def _norm(text: str) -> str:
    return re.sub(r"[\s.\-_]+", " ", (text or "").casefold()).strip()


def _host_label(url: str | None) -> str:
    """'www.ebay.co.uk' -> 'ebay' (the registrable name, without TLDs)."""
    host = (urlsplit(url).hostname or "") if url else ""
    parts = [p for p in host.split(".") if p not in ("www", "m", "shop", "store")]
    while len(parts) > 1 and (len(parts[-1]) <= 3 or parts[-1] in ("com", "co")):
        parts = parts[:-1]
    return parts[-1] if parts else ""


def is_marketplace_brand(brand: str, *, title: str | None, url: str | None = None,
                         site_name: str | None = None) -> bool:
    """The brand names the shop, not the maker (see module docstring)."""
    b = _norm(brand)
    if not b:
        return False
    if title and _norm(title).startswith(b):
        return False  # 'Amazon Echo Dot', 'eBay gift card': the retailer really is the maker
    names = {_norm(m) for m in MARKETPLACES}
    host = _host_label(url)
    if b in names or b.replace(" ", "") in names:
        return True
    if (tag := _BRACKETED.match(brand)) and set(_norm(tag.group(1)).split()) & names:
        return True  # '[타임커머스 티몬]': a marketplace's seller tag in brackets, not a maker
    if host in names or host.replace("-", " ") in names:
        # On a marketplace, its own name, a prefix of it ('Ali' on alibaba.com) or its site name
        # is the shop's, never the product's.
        site = _norm(site_name or "")
        return b == site or (len(b) >= 3 and host.startswith(b.replace(" ", ""))) or b == host
    return False


def policy_reason(text: str) -> str | None:
    """Why a bullet is shop policy rather than a product feature (None: it is a feature)."""
    for reason, pattern in _POLICY_RE:
        if pattern.search(text or ""):
            return reason
    return None


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def facts_sanitise(facts: dict, *, url: str | None = None, site_name: str | None = None) -> tuple[dict, list[dict]]:
    """(facts with failing values removed, [{field, value, reason}]). Pure; ``facts`` is
    not modified."""
    out = dict(facts)
    # Refusals extraction already made (a marketplace named as brand) are reported here too.
    rejected: list[dict] = [dict(r) for r in facts.get("rejected") or []]

    def reject(field: str, value, reason: str) -> None:
        rejected.append({"field": field, "value": str(value)[:300], "reason": reason})

    price, orig = _decimal(out.get("price")), _decimal(out.get("original_price"))
    if orig is not None:
        if price is None:
            reject("original_price", orig, "no current price to compare it with: not a discount")
            out["original_price"] = None
        elif orig <= price:
            reject("original_price", orig, "not above the price: not a discount")
            out["original_price"] = None
        elif orig > price * MAX_DISCOUNT_RATIO:
            reject("original_price", orig, f"more than {MAX_DISCOUNT_RATIO}× the price ({price}): "
                                            "not a believable regular price (another block of the page?)")
            out["original_price"] = None
    brand = out.get("brand")
    if brand and is_marketplace_brand(brand, title=out.get("title"), url=url or out.get("canonical_url"),
                                      site_name=site_name):
        reject("brand", brand, "a retailer or marketplace name, not the product's maker")
        out["brand"] = None
    features = []
    for feature in out.get("features") or []:
        reason = policy_reason(feature)
        if reason:
            reject("features", feature, f"{reason}, not a product feature")
        else:
            features.append(feature)
    out["features"] = features
    specs = {}
    for key, value in (out.get("specs") or {}).items():
        # Spec tables carry shop policy too (Korean pages' legal disclosure rows: refunds,
        # exchanges, delivery, customer service), in the row's name or its value.
        reason = policy_reason(f"{key} {value}")
        if reason:
            reject("specs", f"{key}: {value}", f"{reason}, not a product specification")
        elif _NO_VALUE.match(str(value or "")):
            reject("specs", f"{key}: {value}", "says nothing applies: not a product specification")
        else:
            specs[key] = value
    if "specs" in out:
        out["specs"] = specs
    rating, reviews = out.get("rating"), out.get("review_count")
    if rating is not None:
        try:
            value = float(rating)
        except (TypeError, ValueError):
            value = -1.0
        if not 0 < value <= 5:
            reject("rating", rating, "outside the 0–5 star scale: not social proof")
            out["rating"] = None
        elif not reviews:
            reject("rating", rating, "no review count: not social proof")
            out["rating"] = None
    return out, rejected
