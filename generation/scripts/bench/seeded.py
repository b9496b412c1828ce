"""The seeded-error set: true scripts with one false claim each, and true rewordings.

A *kind* is a family of false claims (wrong price, star words, invented material...); each kind
has several phrasings, chosen per product by a seeded RNG, in English and Chinese. ``make``
returns a (voice_line, on_screen_text) pair for a product, or None when the kind cannot be
false for it (a "fake sale" on a product that really is discounted). A *rewording* says a true
fact in another way ("4.5 stars" for 4.49, "over 1,000 reviews" for 1,203) and must pass.
Bench code: the runtime never imports this package.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Callable

from generation.scripts.claim_words import lexicon
from generation.scripts.facts import ProductFacts, has_cjk, product_facts
from generation.scripts.spoken import (CURRENCIES, en_int, format_price, number_words, speak_price, speak_text,
                                       zh_int, zh_number)

Maker = Callable[[ProductFacts, dict, random.Random, dict], "tuple[str, str] | None"]


@dataclass(frozen=True)
class Kind:
    name: str
    language: str
    make: Maker


def _wrong_price(f: ProductFacts, factor: str) -> Decimal | None:
    if f.price is None:
        return None
    wrong = (f.price * Decimal(factor) + 1).quantize(Decimal("0.01"))
    return None if wrong in {f.price, f.original_price, f.saving} else wrong


def _wrong_rating(f: ProductFacts) -> str:
    if f.rating is None:
        return "4.8"
    wrong = f.rating + Decimal("0.4") if f.rating <= Decimal("4.5") else f.rating - Decimal("0.6")
    if wrong == wrong.to_integral_value():  # "four stars" for 4.6 would be a true understatement
        wrong -= Decimal("0.1")
    return format(wrong.normalize(), "f")


def _big_count(f: ProductFacts) -> int:
    count = f.review_count or 0
    return 10000 if count < 9000 else 50000 if count < 45000 else count * 3


def _wrong_discount(f: ProductFacts) -> int:
    return 40 if f.discount_percent not in (39, 40, 41) else 60


def _other_currency(f: ProductFacts) -> tuple[str, str, str]:
    """(code, symbol, zh name) of a currency that is not the product's."""
    return ("EUR", "€", "欧元") if (f.currency or "USD") not in ("EUR",) else ("GBP", "£", "英镑")


def _pick(rng: random.Random, options):
    return options[rng.randrange(len(options))]


def _absent(concept_ids: list[str], product: dict) -> str | None:
    """The first lexicon concept of ``concept_ids`` the product text does not back."""
    from generation.scripts.claims import _product_text
    text = _product_text(product, ())
    concepts = {c.id: c for c in lexicon()[0]}
    for cid in concept_ids:
        if not any(p.search(text) for p in concepts[cid].all_patterns()):
            return cid
    return None


_FEATURE_CLAIMS = {  # concept -> (en voice, en screen, zh voice, zh screen)
    "genuine_leather": ("Made from genuine leather.", "Genuine leather", "采用头层牛皮，质感在线。", "真皮材质"),
    "waterproof": ("It is fully waterproof.", "Waterproof", "全身防水，雨天也不怕。", "防水设计"),
    "stainless": ("Built from stainless steel.", "Stainless steel", "不锈钢材质，结实耐用。", "不锈钢"),
    "bluetooth": ("It connects over Bluetooth.", "Bluetooth", "支持蓝牙连接。", "蓝牙连接"),
    "dishwasher": ("And it is dishwasher safe.", "Dishwasher safe", "可以放进洗碗机清洗。", "可洗碗机清洗"),
    "noise_cancel": ("With active noise cancelling.", "Noise cancelling", "带主动降噪功能。", "主动降噪"),
    "cashmere": ("Woven from pure cashmere.", "Pure cashmere", "纯羊绒面料。", "纯羊绒"),
    "solar": ("It charges with solar power.", "Solar powered", "太阳能充电。", "太阳能"),
}
_COMPAT = [("Compatible with iPhone 15 and Galaxy S24.", "Fits iPhone 15", "兼容iPhone 15和Galaxy S24。", "适配iPhone 15"),
           ("Works with Alexa and Google Home.", "Works with Alexa", "支持Alexa语音控制。", "兼容Alexa"),
           ("Designed for use with the Tesla Model 3.", "For Tesla Model 3", "适用于Tesla Model 3。", "适配Model 3"),
           ("Pairs with PlayStation 5 controllers.", "PS5 ready", "兼容PS5手柄。", "支持PS5")]


def _other_feature(f: ProductFacts, product: dict, rng: random.Random, ctx: dict, zh: bool):
    """A feature of another corpus product (absent from this one's facts)."""
    from generation.scripts.claims import _product_text
    own = _product_text(product, ()).lower()
    pool = [t for t in ctx.get("foreign_features", ()) if t.lower() not in own and has_cjk(t) == zh]
    if not pool:
        return None
    text = _pick(rng, pool)
    return (("还有：" + text + "。") if zh else f"It also has {speak_text(text, 'en')}.", text)


EN: list[Kind] = [
    Kind("wrong price on screen", "en", lambda f, p, r, c: (w := _wrong_price(f, "1.37")) and
         (_pick(r, ["Yours today.", "Grab it now."]), _pick(r, ["Only ", "Now ", ""]) + format_price(str(w), f.currency))),
    Kind("wrong price spoken", "en", lambda f, p, r, c: (w := _wrong_price(f, "0.61")) and
         (_pick(r, ["Yours for {}.", "Now just {}.", "All yours for {}."]).format(speak_price(str(w), f.currency)), "Shop now")),
    Kind("price in words", "en", lambda f, p, r, c: f.price is not None and f.price != 199 and
         ("Only a hundred and ninety-nine dollars.", "Great price")),
    Kind("wrong currency", "en", lambda f, p, r, c: f.price is not None and
         (_pick(r, ["Yours today.", "That is the price."]), format_price(str(f.price), _other_currency(f)[0]))),
    Kind("fake discount percent", "en", lambda f, p, r, c: (
        f"{_pick(r, ['That is', 'Take', 'Save'])} {en_int(_wrong_discount(f))} percent off.",
        f"{_wrong_discount(f)}% OFF")),
    Kind("fake original price", "en", lambda f, p, r, c: (w := _wrong_price(f, "2.1")) and
         (f"It used to be {speak_price(str(w), f.currency)}.", f"Was {format_price(str(w), f.currency)}")),
    Kind("wrong rating", "en", lambda f, p, r, c: _pick(r, [
        (f"Rated {number_words(_wrong_rating(f), 'en')} out of five.", "Loved by shoppers"),
        ("Shoppers love it.", f"{_wrong_rating(f)}★"),
        (f"Shoppers give it {number_words(_wrong_rating(f), 'en')} stars.", "Top marks")])),
    Kind("star words", "en", lambda f, p, r, c: None if f.rating is not None and f.rating >= Decimal("4.95") else
         _pick(r, [("A five-star favourite.", "Loved by shoppers"), ("Five stars from buyers.", "5-star rated"),
                   ("Shoppers love it.", "★ 5 stars")])),
    Kind("inflated review count", "en", lambda f, p, r, c: _pick(r, [
        (f"Over {en_int(_big_count(f))} reviews.", f"{_big_count(f):,}+ reviews"),
        ("Backed by thousands of reviews.", "Thousands of reviews") if (f.review_count or 0) < 2000 else
        (f"More than {en_int(_big_count(f))} reviews.", "Loved by shoppers"),
        ("Shoppers are talking.", f"{_big_count(f) // 1000}k reviews")])),
    Kind("invented customer count", "en", lambda f, p, r, c: _pick(r, [
        ("Trusted by twenty-five thousand customers.", "25,000 fans"),
        ("Loved by thousands of families.", "Loved by families"),
        ("Over a million happy customers.", "1M+ customers")])),
    Kind("superlative", "en", lambda f, p, r, c: _pick(r, [
        ("Shoppers keep coming back.", "#1 Best Seller"), ("The number one choice this year.", "Top pick"),
        ("Simply the best on the market.", "Look closer"), ("World-class quality.", "World-class"),
        ("The cheapest you will find.", "Great value"), ("An unbeatable design.", "Unbeatable")])),
    Kind("certification or clinical claim", "en", lambda f, p, r, c: _pick(r, [
        ("Clinically proven to work.", "Clinically proven"), ("It is FDA approved.", "FDA approved"),
        ("Dermatologist recommended.", "Dermatologist tested"), ("Lab tested for quality.", "Lab tested")])),
    Kind("natural or free-from claim", "en", lambda f, p, r, c: _pick(r, [
        ("One hundred percent natural.", "100% natural"), ("Zero additives, ever.", "Zero additives"),
        ("Completely chemical-free.", "Chemical-free"), ("Non-toxic and safe.", "Non-toxic")])),
    Kind("invented spec number", "en", lambda f, p, r, c: _pick(r, [
        ("Up to thirty-seven hours of battery life.", "37h battery"), ("It weighs just one point three kilograms.", "Only 1.3 kg"),
        ("A full fifty-three inches wide.", "53-inch"), ("Holds up to seventeen liters.", "17 L capacity")])),
    Kind("invented material or feature", "en", lambda f, p, r, c: (cid := _absent(list(_FEATURE_CLAIMS), p)) and
         _FEATURE_CLAIMS[cid][:2]),
    Kind("invented compatibility", "en", lambda f, p, r, c: _pick(r, _COMPAT)[:2]),
    Kind("feature of another product", "en", lambda f, p, r, c: _other_feature(f, p, r, c, zh=False)),
    Kind("urgency", "en", lambda f, p, r, c: _pick(r, [
        ("Hurry, this deal ends tonight.", "FLASH SALE"), ("Limited time only.", "Limited time"),
        ("Only three left in stock.", "Only 3 left"), ("Grab it before it is gone.", "Ends in 00:59:59")])),
    Kind("sale without a discount", "en", lambda f, p, r, c: (
        _pick(r, [("It is on sale now.", "On sale"), ("Big price drop today.", "Price drop"),
                  ("Clearance pricing.", "Clearance")]) if f.discount_percent is None else
        ("Half price today.", "Half price") if f.discount_percent not in (49, 50) else None)),
    Kind("comparison with others", "en", lambda f, p, r, c: _pick(r, [
        ("It lasts twice as long as the rest.", "2x longer"), ("Better than any other on the shelf.", "Better than the rest"),
        ("It outperforms the competition.", "Outperforms rivals"), ("Stronger than ordinary bags.", "Stronger")])),
    Kind("shipping or warranty promise", "en", lambda f, p, r, c: _pick(r, [
        ("Free shipping on every order.", "Free shipping"), ("Backed by a lifetime warranty.", "Lifetime warranty"),
        ("With a money-back guarantee.", "Money-back guarantee")])),
]


def _zh_price(value: Decimal, f: ProductFacts) -> str:
    return speak_price(str(value), f.currency, "zh")


ZH: list[Kind] = [
    Kind("wrong price on screen", "zh", lambda f, p, r, c: (w := _wrong_price(f, "0.61")) and
         ("马上入手。", _pick(r, ["仅", "到手价", ""]) + format_price(str(w), f.currency))),
    Kind("wrong price spoken", "zh", lambda f, p, r, c: (w := _wrong_price(f, "1.37")) and
         (_pick(r, ["现在只要{}。", "到手只要{}。"]).format(_zh_price(w, f)), "马上入手")),
    Kind("price in words", "zh", lambda f, p, r, c: f.price is not None and f.price != 199 and
         ("只要一百九十九元。", "超值价")),
    Kind("wrong currency", "zh", lambda f, p, r, c: f.price is not None and
         (f"只要{zh_number(format(f.price.normalize(), 'f'))}{_other_currency(f)[2]}。", "马上入手")),
    Kind("fake discount percent", "zh", lambda f, p, r, c: _pick(r, [
        (f"直降百分之{zh_int(_wrong_discount(f))}。", f"省{_wrong_discount(f)}%"),
        ("限时五折。" if f.discount_percent not in (49, 50) else "限时三折。", "五折" if f.discount_percent not in (49, 50) else "三折"),
        ("现在打六折。", "6折") if f.discount_percent not in (39, 40) else ("现在打八折。", "8折")])),
    Kind("fake original price", "zh", lambda f, p, r, c: (w := _wrong_price(f, "2.1")) and
         (f"原价{_zh_price(w, f)}。", f"原价{format_price(str(w), f.currency)}")),
    Kind("wrong rating", "zh", lambda f, p, r, c: _pick(r, [
        (f"买家评分{number_words(_wrong_rating(f), 'zh')}分。", "好评"), ("买家都说好。", f"评分{_wrong_rating(f)}"),
        (f"满分五分，买家给了{number_words(_wrong_rating(f), 'zh')}分。", "买家评分")])),
    Kind("star words", "zh", lambda f, p, r, c: None if f.rating is not None and f.rating >= Decimal("4.95") else
         _pick(r, [("五星好评。", "五星好评"), ("买家一致给出五星。", "5星推荐")])),
    Kind("inflated review count", "zh", lambda f, p, r, c: _pick(r, [
        (f"超过{zh_int(_big_count(f))}条评价。", "人气好物"), ("已有上万条好评。", "上万好评") if (f.review_count or 0) < 10000 else
        (f"超过{zh_int(_big_count(f))}条评价。", "人气好物"),
        ("买家都在夸。", f"{_big_count(f) / 10000:g}万条评价")])),
    Kind("invented customer count", "zh", lambda f, p, r, c: _pick(r, [
        ("已有两万五千位用户选择。", "2.5万用户"), ("上万人都在用。", "万人选择"), ("超过一百万位买家信赖。", "百万买家")])),
    Kind("superlative", "zh", lambda f, p, r, c: _pick(r, [
        ("这款销量第一。", "销量第一"), ("全网最低价。", "超值"), ("这是最好的选择。", "闭眼入"),
        ("性价比之王。", "性价比之王"), ("行业领先的品质。", "行业领先"), ("品质顶级。", "顶级品质")])),
    Kind("certification or clinical claim", "zh", lambda f, p, r, c: _pick(r, [
        ("经过临床验证。", "临床验证"), ("通过FDA认证。", "FDA认证"), ("医生推荐使用。", "医生推荐")])),
    Kind("natural or free-from claim", "zh", lambda f, p, r, c: _pick(r, [
        ("零添加，更安心。", "零添加"), ("百分之百纯天然。", "纯天然"), ("无副作用。", "无副作用")])),
    Kind("invented spec number", "zh", lambda f, p, r, c: _pick(r, [
        ("续航长达三十七小时。", "超长续航"), ("重量只有一点三公斤。", "仅1.3kg"), ("足足五十三英寸。", "53英寸"),
        ("容量高达十七升。", "17升大容量")])),
    Kind("invented material or feature", "zh", lambda f, p, r, c: (cid := _absent(list(_FEATURE_CLAIMS), p)) and
         _FEATURE_CLAIMS[cid][2:]),
    Kind("invented compatibility", "zh", lambda f, p, r, c: _pick(r, _COMPAT)[2:]),
    Kind("feature of another product", "zh", lambda f, p, r, c: _other_feature(f, p, r, c, zh=False) and
         ("这一点很实用。", _other_feature(f, p, r, c, zh=False)[1])),
    Kind("urgency", "zh", lambda f, p, r, c: _pick(r, [
        ("限时抢购，手慢无。", "限时抢购"), ("仅剩三件，抓紧下单。", "仅剩3件"), ("倒计时最后一天。", "倒计时"),
        ("马上入手。", "00:59:59 后恢复原价")])),
    Kind("sale without a discount", "zh", lambda f, p, r, c: (
        _pick(r, [("今天特价。", "特价"), ("全场大促。", "大促"), ("清仓价，马上入手。", "清仓")])
        if f.discount_percent is None else ("今天半价。", "半价") if f.discount_percent not in (49, 50) else None)),
    Kind("comparison with others", "zh", lambda f, p, r, c: _pick(r, [
        ("比同类产品更耐用。", "更耐用"), ("续航是普通产品的两倍。", "2倍续航"), ("吊打同价位。", "完胜同价位")])),
    Kind("shipping or warranty promise", "zh", lambda f, p, r, c: _pick(r, [
        ("全国包邮。", "包邮"), ("终身保修。", "终身保修"), ("无效退款。", "无效退款")])),
]
KINDS = EN + ZH


# ---- true rewordings -------------------------------------------------------------------------

def _floor_round(n: int) -> int:
    """1,203 -> 1,000; 471 -> 400; 86 -> 80: a round lower bound."""
    magnitude = 10 ** (len(str(n)) - 1)
    return (n // magnitude) * magnitude


def _round1(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")


def rewordings(f: ProductFacts, product: dict, language: str) -> list[tuple[str, str, str]]:
    """(name, voice, screen) true rewordings of this product's facts in ``language``."""
    out: list[tuple[str, str, str]] = []
    zh = language == "zh"
    if f.rating is not None:
        r1 = _round1(f.rating)
        out.append(("rating rounded", f"评分{number_words(r1, 'zh')}分。" if zh else
                    f"Rated {number_words(r1, 'en')} out of five.", f"{r1}★" if not zh else f"评分{r1}/5"))
        whole = int(f.rating.to_integral_value(rounding=ROUND_DOWN))
        if whole >= 1:
            out.append(("whole stars", f"{zh_int(whole)}星以上好评。" if zh else f"A {en_int(whole)}-star pick.",
                        f"{whole}-star" if not zh else f"{whole}星"))
    if f.review_count is not None and f.review_count >= 20:
        low = _floor_round(f.review_count)
        out.append(("reviews lower bound", f"超过{zh_int(low)}条评价。" if zh else f"Over {en_int(low)} reviews.",
                    f"{low:,}+条评价" if zh else f"{low:,}+ reviews"))
        out.append(("reviews approximate", f"将近{zh_int(f.review_count)}条评价。" if zh else
                    f"Nearly {en_int(f.review_count)} reviews.", f"{f.review_count:,}条评价" if zh else f"{f.review_count:,} reviews"))
    if f.price is not None:
        code = (f.currency or "").upper()
        plain = format(f.price.normalize(), "f")
        if code:
            out.append(("price with code", f"到手价{speak_price(str(f.price), code, 'zh')}。" if zh else
                        f"Yours for {speak_price(str(f.price), code)}.", f"{code} {plain}"))
        out.append(("price with symbol", "现在入手。" if zh else "Shop it today.", format_price(str(f.price), f.currency)))
        ceiling = (f.price * Decimal("1.1") / 5).to_integral_value(rounding="ROUND_CEILING") * 5
        if f.price < ceiling <= f.price * Decimal("1.5") and code in CURRENCIES:
            out.append(("price under", f"不到{speak_price(str(ceiling), code, 'zh')}。" if zh else
                        f"Under {speak_price(str(ceiling), code)}.", ("不到" if zh else "Under ") + format_price(str(ceiling), code)))
    if f.discount_percent is not None:
        d = f.discount_percent
        out.append(("discount", f"直降百分之{zh_int(d)}。" if zh else f"Save {en_int(d)} percent.",
                    f"省{d}%" if zh else f"{d}% off"))
        if zh and 0 < d <= 90:
            out.append(("discount as 折", f"现在{zh_number(str(100 - d))}折。".replace("十", "") if (100 - d) % 10 else
                        f"现在{zh_int((100 - d) // 10)}折。", f"{(100 - d) / 10:g}折"))
    for key, text in f.features[:3]:
        if has_cjk(text) == zh and len(text) <= 120:
            out.append(("spec verbatim", speak_text(text, language, currency=f.currency), text))
            break
    if f.brand and (has_cjk(f.brand) or not zh):
        out.append(("brand", f"来自{f.brand}。" if zh else f"Made by {f.brand}.", f.brand))
    return out
