"""The seeded-error set: ungrounded claims injected into clean scripts.

Each error builds a (voice_line, on_screen_text) pair for a product, or None when it does not
apply (e.g. "wrong rating" needs a rating) or would accidentally be true. The injected line
replaces the first scene of a clean script; the checker must flag that segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from generation.scripts.facts import product_facts
from generation.scripts.spoken import en_int, format_price, number_words, speak_price, zh_int


@dataclass(frozen=True)
class SeededError:
    name: str
    language: str
    make: Callable[[dict], tuple[str, str] | None]


def _price(p):
    return product_facts(p).price


def _wrong_price(p, factor="1.37"):
    f = product_facts(p)
    if f.price is None:
        return None
    wrong = (f.price * Decimal(factor) + 1).quantize(Decimal("0.01"))
    known = {x for x in (f.price, f.original_price, f.saving) if x is not None}
    return None if wrong in known else (str(wrong), f.currency)


def _wrong_rating(p):
    r = product_facts(p).rating
    if r is None:
        return "4.8"
    wrong = r + Decimal("0.4") if r <= Decimal("4.5") else r - Decimal("0.6")
    return format(wrong.normalize(), "f")


def _reviews_inflated(p):
    count = product_facts(p).review_count or 0
    return 10000 if count < 9000 else max(50000, count * 5)  # "over 10,000" is true for 12,000 reviews


EN = [
    SeededError("wrong price on screen", "en", lambda p: (w := _wrong_price(p)) and
                ("Yours today.", f"Only {format_price(w[0], w[1])}")),
    SeededError("wrong price spoken", "en", lambda p: (w := _wrong_price(p, "0.61")) and
                (f"Yours for {speak_price(w[0], w[1])}.", "Shop now")),
    SeededError("invented battery life", "en", lambda p: ("Up to thirty-seven hours of battery life.", "37h battery")),
    SeededError("invented weight", "en", lambda p: ("It weighs just one point three kilograms.", "Only 1.3 kg")),
    SeededError("invented dimension", "en", lambda p: ("A full fifty-three inches wide.", "53-inch")),
    SeededError("wrong rating spoken", "en", lambda p: (f"Rated {number_words(_wrong_rating(p), 'en')} out of five.",
                                                         "Loved by shoppers")),
    SeededError("wrong rating on screen", "en", lambda p: ("Shoppers love it.", f"{_wrong_rating(p)}★")),
    SeededError("five stars claimed", "en", lambda p: None if product_facts(p).rating == 5 else
                ("A five star favourite.", "5 stars")),
    SeededError("inflated review count", "en", lambda p: (f"Over {en_int(_reviews_inflated(p))} reviews.",
                                                           f"{_reviews_inflated(p):,}+ reviews")),
    SeededError("made-up #1 best seller", "en", lambda p: ("Shoppers keep coming back.", "#1 Best Seller")),
    SeededError("number one spoken", "en", lambda p: ("The number one choice this year.", "Top pick")),
    SeededError("best on the market", "en", lambda p: ("Simply the best on the market.", "Look closer")),
    SeededError("cheapest ever", "en", lambda p: ("The cheapest you will find.", "Great value")),
    SeededError("fake discount", "en", lambda p: None if product_facts(p).discount_percent == 50 else
                ("Half price today, fifty percent off.", "50% OFF")),
    SeededError("fake original price", "en", lambda p: (w := _wrong_price(p, "2.1")) and
                (f"It used to be {speak_price(w[0], w[1])}.", f"Was {format_price(w[0], w[1])}")),
    SeededError("invented customer count", "en", lambda p: ("Trusted by twenty-five thousand customers.", "25,000 fans")),
    SeededError("award winning", "en", lambda p: ("An award-winning design.", "Award-winning")),
]
ZH = [
    SeededError("zh wrong price spoken", "zh", lambda p: (w := _wrong_price(p)) and
                (f"现在只要{speak_price(w[0], w[1], 'zh')}。", "马上入手")),
    SeededError("zh wrong price on screen", "zh", lambda p: (w := _wrong_price(p, "0.61")) and
                ("马上入手。", f"仅{format_price(w[0], w[1])}")),
    SeededError("zh best seller", "zh", lambda p: ("这款销量第一。", "销量第一")),
    SeededError("zh lowest price", "zh", lambda p: ("全网最低价，别错过。", "超值")),
    SeededError("zh wrong rating", "zh", lambda p: (f"买家评分{number_words(_wrong_rating(p), 'zh')}分。", "好评")),
    SeededError("zh invented battery", "zh", lambda p: ("续航长达三十七小时。", "超长续航")),
    SeededError("zh fake discount", "zh", lambda p: None if product_facts(p).discount_percent == 50 else
                ("直降百分之五十。", "五折")),
    SeededError("zh inflated reviews", "zh", lambda p: (f"超过{zh_int(_reviews_inflated(p))}条评价。", "人气好物")),
    SeededError("zh invented weight", "zh", lambda p: ("重量只有一点三公斤。", "仅1.3kg")),
    SeededError("zh best", "zh", lambda p: ("这是最好的选择。", "闭眼入")),
]
SEEDED_ERRORS = EN + ZH
