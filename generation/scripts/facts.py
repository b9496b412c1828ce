"""Product facts -> the values a writer may use, each tied to the fact key it comes from.

Fact keys: ``title, brand, price, original_price, rating, review_count, availability,
description, features[i], specs.<name>``. A writer only fills placeholders from here, so every
number it prints has a source (the claim checker verifies that independently).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass
class ProductFacts:
    """Normalised view of a product facts dict (sparse products give empty lists / None)."""
    name: str
    brand: str | None
    price: Decimal | None
    original_price: Decimal | None
    currency: str | None
    rating: Decimal | None
    review_count: int | None
    availability: str | None
    features: list[tuple[str, str]] = field(default_factory=list)  # (fact key, text)
    description: str | None = None
    url_name: str | None = None  # a Latin name from the product URL's slug, for non-Latin titles

    @property
    def discount_percent(self) -> int | None:
        """Whole percent saved, rounded down so the claim never overstates the saving."""
        if self.price is None or not self.original_price or self.original_price <= self.price:
            return None
        return int((self.original_price - self.price) * 100 / self.original_price)

    @property
    def saving(self) -> Decimal | None:
        if self.discount_percent is None:
            return None
        return self.original_price - self.price


_SLUG_NOISE = {"buy", "item", "items", "product", "products", "p", "dp", "htm", "html", "php", "aspx", "detail", "www",
               "shop", "store", "goods", "sale", "new", "official", "pd", "ip", "itm"}


def url_name(url: str | None, max_words: int = 5) -> str | None:
    """"https://x.com/buy-adidas-youth-badge-of-sport-t-shirt-w712550a.html" -> "Adidas Youth Badge
    of Sport": a readable Latin name from a URL slug (None without two real words)."""
    if not isinstance(url, str) or not url:
        return None
    path = re.sub(r"[?#].*$", "", url).rstrip("/")
    segments = [seg for seg in path.split("/")[3:] if re.search(r"[A-Za-z]{3,}", seg)]
    if not segments:
        return None
    slug = max(segments, key=lambda seg: len(re.findall(r"[A-Za-z]{3,}", seg)))
    words = [w for w in re.split(r"[-_+.\s]+", re.sub(r"\.\w{2,5}$", "", slug))
             if w.isalpha() and w.isascii() and w.lower() not in _SLUG_NOISE]
    if sum(len(w) >= 3 for w in words) < 2:
        return None
    small = {"of", "and", "for", "with", "the", "a", "an", "in", "on", "to", "by"}
    return _trim_dangling([w.capitalize() if w.islower() and (i == 0 or w not in small) else w
                           for i, w in enumerate(words[:max_words])])


def short_name(title: str, brand: str | None, *, max_words: int = 6, max_cjk: int = 14) -> str:
    """A speakable product name: the title up to its first comma/dash/bracket, capped."""
    title = re.sub(r"[【\[].*?[】\]]|[®™©]", " ", title or "").strip() or (brand or "this product")
    title = _LEADING_SIZE.sub("", title).strip() or title  # '60"W x 24"D x 1-3/4" Thick Maple ...' 
    head = re.split(r"\s[-–|]\s|[,(（|]|\s(?:with|for|featuring|w/)\s", title, flags=re.I)[0].strip() or title
    if has_cjk(head):
        cut = min(len(head), max_cjk)
        while cut < len(head) and re.match(r"\w", head[cut], re.A) and re.match(r"\w", head[cut - 1], re.A):
            cut += 1  # never "iPhon" from "iPhone"
        return head[:cut].strip()
    return shorten_name(" ".join(_drop_codes(_drop_trailing_details(head.split()))), max_words)


_LEADING_SIZE = re.compile(r"^(?:[\d][\d./-]*\s?(?:\"|″|in|inch(?:es)?|cm|mm)?\s?[WDHL]?\s*(?:[x×]\s*)?)+(?=[A-Za-z]{3,})")
_SIZE_WORD = re.compile(r"^\d[\d.]*(?:\"|″|”|in|inch|cm|mm|gb|tb|w|v)$", re.I)  # 11" / 512GB / 40W in a name
_CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9-]{5,}$|^\d+-\d+[A-Za-z]*$")


def _drop_codes(words: list[str]) -> list[str]:
    """Model codes ("RT628B", "513-1311W", "1080P") out of the spoken name while two real words stay:
    a voice spells them letter by letter and they mean nothing to a viewer."""
    kept = [w for w in words if not _CODE.match(w) and not _SIZE_WORD.match(w)]
    units = ("watt", "watts", "volt", "volts")
    kept = [w for i, w in enumerate(kept)
            if not (w.lower() in units and i and kept[i - 1][:1].isdigit())
            and not (w[:1].isdigit() and i + 1 < len(kept) and kept[i + 1].lower() in units)]
    return kept if sum(w.isalpha() for w in kept) >= 2 else words


_UNIT_WORD = re.compile(r"^(?:\d[\d.,]*)?(?:ml|l|oz|fl|lbs?|kg|g|mm|cm|m|in|inch(?:es)?|ft|gb|tb|mah|w|v|"
                        r"pack|pk|pcs|pieces|count|ct|liters?|ounces?|quarts?|qt|gallons?)\.?$", re.I)
_PACK = re.compile(r"^\d+[-\s]?(?:pack|pk|pcs|count|ct|piece)s?$|^\d[\d.,]*$", re.I)
_COLOURS = {"black", "white", "blue", "red", "green", "grey", "gray", "silver", "gold", "pink", "purple",
            "navy", "beige", "brown", "orange", "yellow", "teal", "charcoal", "graphite", "ivory"}


def _drop_trailing_details(words: list[str]) -> list[str]:
    """Drop a title's trailing size/pack/colour ("... Water Bottle 750 ml", "... Mug 2-Pack, Black")
    so the name ends on its head noun; a lone trailing number is a model ("iPhone 15") and stays."""
    words = [w.strip(",;") for w in words if w.strip(",;")]
    while len(words) > 2:
        last = words[-1]
        if _UNIT_WORD.match(last) and (re.match(r"^\d", last) or _PACK.match(words[-2])):
            words = words[:-1] if re.match(r"^\d", last) else words[:-2]  # "750ml" / "750 ml"
        elif _PACK.match(last) and not last.isdigit():  # "2-Pack"
            words = words[:-1]
        elif last.lower() in ("of",) or (last.lower() in _COLOURS and len(words) > 3):
            words = words[:-1]
        elif len(words) > 3 and words[-2].lower() == "pack" and words[-1].lower() == "of":
            words = words[:-2]
        else:
            break
    return words


_MODEL_TAILS = {"pro", "max", "plus", "ultra", "mini", "lite", "edition", "series", "se", "gen", "xl"}


def shorten_name(name: str, max_words: int) -> str:
    """At most ``max_words`` words of a (Latin) name that keep its head noun: "Aurora Insulated
    Water Bottle" -> "Aurora Insulated Bottle" (3) / "Aurora Bottle" (2), never "Aurora Insulated"."""
    words = name.split()
    if len(words) <= max_words:
        return name
    head = words[-1]
    if max_words >= 2 and head.isalpha() and len(head) >= 3 and head[1:].islower() \
            and head.lower() not in _MODEL_TAILS and head.lower() not in _DANGLING:
        return " ".join(_trim_dangling(words[: max_words - 1]).split() + [head])
    return _trim_dangling(words[:max_words])


_DANGLING = {"with", "and", "for", "of", "the", "a", "an", "to", "at", "in", "on", "x", "&", "-", "–", "by", "or",
             "over", "into", "onto", "from", "up", "about", "around", "through", "under", "per", "via", "your",
             "our", "their", "its", "my", "is", "are", "was", "that", "which", "while", "so", "as", "than", "but"}


def _trim_dangling(words: list[str]) -> str:
    while len(words) > 1 and words[-1].lower().strip(",;:") in _DANGLING:
        words = words[:-1]
    return " ".join(words).rstrip(",;:-–")


# Verbs that open feature bullets ("Keeps drinks cold", "Fits most cup holders", "Enjoy crisp sound").
# Words that are as often plural nouns ("lights", "covers", "seals") are left out on purpose.
_VERBS = set("""absorb adapt add adjust allow attach block blend boost brew brighten capture carry charge
clean combine come connect cook cool deliver detect dry eliminate enable enhance ensure enjoy extend fit fold
get give glide grip handle heat help hold improve include keep last let make measure monitor offer pair
prevent promote protect provide reduce reheat remove repel resist run save show shut sit slide soften stand
stay store stream suit support take track transform turn upgrade use wash wick work wrap set bring create
elevate serve host select choose secure""".split())
_BASE_ONLY_IMPERATIVE = {"enjoy", "get", "stay", "keep", "make", "use", "say", "experience", "take", "give",
                         "upgrade", "transform", "save", "set", "bring", "create", "elevate", "select", "choose"}
_OBJECT_START = {"a", "an", "the", "your", "you", "it", "up", "more", "every", "any", "yourself"}


def _verb_base(word: str) -> str | None:
    w = word.lower()
    for base in (w[:-1], w[:-2], w[:-3] + "y") if w.endswith("s") else ():
        if base in _VERBS:
            return base
    return None


def feature_form(text: str) -> str:
    """Grammar of a Latin feature phrase, so templates fit it: "verb" ("Keeps drinks cold" ->
    "It keeps..."), "imperative" ("Enjoy crisp sound"), "participle" ("Made from steel",
    "Measuring 36 inches"), "plural" ("Dual USB ports", "24 hours of power": "You get ..." reads),
    else "noun" (a bare singular noun phrase: no "You get", it would need an article)."""
    words = re.findall(r"[A-Za-z][\w'-]*|\d[\d.,/x-]*", text or "")
    if not words:
        return "noun"
    first = words[0].lower()
    if first.endswith("ly") and len(words) > 1 and _verb_base(words[1]):  # "Easily fits"
        return "verb"
    if _verb_base(first):
        return "verb"
    second = words[1].lower() if len(words) > 1 else ""
    if (first in _VERBS and (first in _BASE_ONLY_IMPERATIVE or second in _OBJECT_START)) or \
            (first.isalpha() and first not in _DETERMINERS and second in ("a", "an", "the", "your")):
        return "imperative"  # "Set a beautiful table", "Protect your home"
    if re.match(r"^[a-z]{3,}ing$", first):
        return "gerund"  # "Measuring 36 inches": not after "Plus," / "What I love:"
    if re.match(r"^[a-z]{3,}ed$", first) or first in ("made", "built", "designed", "crafted", "sold"):
        return "participle"
    head = re.split(r",|\s(?:with|for|and|in|on|of|to|that|from)\s", text)[0].split()
    if re.match(r"^\d", first) or (head and re.search(r"[a-z]{2}s$", head[-1]) and not head[-1].endswith("ss")):
        return "plural"
    return "noun"


_MASS_NOUNS = set("""steel plastic aluminum aluminium cotton leather wood glass silicone fabric material water
protection support storage power performance quality comfort technology sound light insulation resistance
construction capacity warmth airflow coverage grip traction control suction noise bass audio video wifi
bluetooth foam rubber nylon polyester wool linen bamboo ceramic copper iron titanium carbon mesh""".split())
_DETERMINERS = {"a", "an", "the", "one", "each", "every", "your", "our", "its", "this", "no", "any", "all"}


def indefinite_article(text: str) -> str | None:
    """"a"/"an" for a singular countable noun phrase ("Leak-proof lid with a loop" -> "a"), None when
    unsure (mass nouns "stainless steel", -ing/-tion heads, numbers, names, determiners)."""
    if feature_form(text) != "noun":
        return None
    chunk = re.split(r",|\s(?:with|for|and|in|on|of|to|that|from|featuring)\s", text)[0].split()
    if not chunk or chunk[0].lower() in _DETERMINERS or not re.match(r"^[A-Za-z]", chunk[0]):
        return None
    head = chunk[-1].lower().strip(".")
    if (not head.isalpha() or head in _MASS_NOUNS or re.search(r"(?:ing|tion|sion|ness|ity|ment|ics|s)$", head)
            or any(w[:1].isupper() and w[1:2].isupper() for w in chunk[1:])):  # acronyms: "USB-C" etc.
        return None
    first = chunk[0].lower()
    if re.match(r"^[A-Z]{2,}", chunk[0]):  # an acronym is read letter by letter: "a USB-C port", "an LED lamp"
        return "an" if first[0] in "aefhilmnorsx" else "a"
    vowel = re.match(r"^(?:[aio]|e(?!u)|u(?!ni|s[aeiu]|ti)|hour|honest)", first) is not None
    return "an" if vowel else "a"


def feature_parts(text: str) -> tuple[str, str]:
    """Split "LARGE CAPACITY: Measuring at 36 x 17 inches" into (header, body)."""
    text = re.sub(r"\s+", " ", text or "").strip()
    header, sep, body = text.partition(":")
    if sep and 0 < len(header.split()) <= 6 and body.strip():
        return header.strip().capitalize() if header.isupper() else header.strip(), _uncaps(body.strip())
    return "", _uncaps(text)


def _uncaps(text: str) -> str:
    """"VERSATILE STORAGE, DURABLE CONSTRUCTION" -> "Versatile storage, durable construction" (shouting
    reads badly on screen and some voices spell capitals); short acronyms (USB, LED) stay."""
    if not text.isupper() or len(re.findall(r"[A-Z]{4,}", text)) < 2:
        return text
    out = re.sub(r"[A-Z]{4,}", lambda m: m[0].lower(), text)
    return out[:1].upper() + out[1:]


def clip_words(text: str, max_words: int) -> str:
    """First clause of ``text`` with at most ``max_words`` words (CJK: 2 chars ~ 1 word)."""
    clause = re.split(r"(?<=[.;!?])\s+|(?<=[。；！？])|,\s+(?=[a-z])", text)[0].strip(" .;。；")
    if has_cjk(clause):
        cut = min(len(clause), max_words * 2)
        while cut < len(clause) and re.match(r"[\w.,%]", clause[cut], re.A) \
                and re.match(r"\w", clause[cut - 1], re.A):  # never cut "2320" to "232" or "64GB" to "64G"
            cut += 1
        return clause[:cut]
    words = clause.split()
    if len(words) > max_words:  # prefer a natural boundary that keeps at least half the words
        natural = _boundary_cut(clause, max_words, max(2, (max_words + 1) // 2))
        if natural:
            return _trim_dangling(natural.split())
    cut = min(max_words, len(words))
    while cut < len(words) and cut < max_words + 6 and _NUMBER_GROUP.match(words[cut].strip(",;")) \
            and (_NUMBER_GROUP.match(words[cut - 1].strip(",;")) or words[cut].lower() in ("x", "×")):
        cut += 1  # never cut "36 x 17 x 15 inches" in the middle of its numbers
    if cut < len(words) and cut_changes_meaning(words[:cut], words[cut:]):
        return ""  # "The lamps cannot be [used outdoors]": drop the line rather than invert it
    return _trim_dangling(words[:cut])


# A clause cut mid-way must not lose a negation/qualifier or end on a verb that needs its object.
_MEANING_TAIL = re.compile(r"^(?:not|no|never|without|except|unless|only|nor|cannot|can't|don't|doesn't|isn't|"
                           r"aren't|won't|shouldn't|less|under|below|over|above|up|than|if|but|instead)$", re.I)
_OPEN_ENDING = re.compile(r"^(?:be|is|are|was|were|been|being|can|cannot|can't|could|will|would|should|must|may|"
                          r"might|shall|do|does|did|don't|doesn't|not|no|never|has|have|had|get|gets|make|makes|"
                          r"keep|keeps|let|lets|to|than|from|into|without|except|only|very|too|so|more|most|less)$",
                          re.I)


def cut_changes_meaning(head: list[str], tail: list[str]) -> bool:
    """Whether keeping ``head`` of a clause and dropping ``tail`` could change what it says."""
    last = head[-1].strip(",;:.") if head else ""
    return bool(_OPEN_ENDING.match(last)) or any(_MEANING_TAIL.match(w.strip(",;:.")) for w in tail) \
        or bool(tail and re.match(r"\d", tail[0]))  # "running version [4]"


# Where a feature phrase may be cut and still read as a phrase: "Keeps drinks cold for 24 hours |and
# hot for 12 hours", "18/8 stainless steel|, BPA-free", "Leak-proof lid |with a carry loop".
_BOUNDARY = re.compile(r",\s+|\s+(?:with|and|for|plus|that|which|while|so|to|in|on|from|featuring|including|[-–—])\s+", re.I)


def _boundary_cut(clause: str, max_words: int, min_words: int) -> str | None:
    """The longest head of ``clause`` ending at a natural boundary with min..max words, if any."""
    best = None
    for m in _BOUNDARY.finditer(clause):
        head = clause[: m.start()].strip()
        if min_words <= len(head.split()) <= max_words and not _NUMBER_GROUP.match(clause[m.end():].split()[0]):
            best = head
    return best


def screen_phrase(text: str, max_words: int = 6) -> str:
    """On-screen form of a Latin feature: the whole first clause when short, else its head up to a
    natural boundary (comma, "with", "and"...), else clipped; never ends on an article/preposition."""
    clause = re.split(r"(?<=[.;!?])\s+", re.sub(r"\s+", " ", text or "").strip())[0].strip(" .;")
    if len(clause.split()) <= max_words:
        return clause
    return _boundary_cut(clause, max_words, 2) or clip_words(clause, max_words - 1)


_NUMBER_GROUP = re.compile(r"^(?:x|×|\d[\d.,/\"″-]*\w{0,4}|inch(?:es)?|cm|mm|m|kg|g|lbs?|oz|ml|l|ft|yd|"
                           r"hours?|mah|w|v|gb|tb|mb|feet|meters?|pounds?|ounces?)$", re.I)


_JUNK = re.compile(r"\S@\w+\.\w|\b(?i:tel|phone|fax)\b\.?:?\s*\+?\d|[{}<>;=|\\]|https?:|www\.|\btypeof\b|\bfunction\b|\bvar\b|[^\s]{26,}|[：:].*[：:].*[：:]")


# Spec rows that repeat the offer or identify the listing rather than describe the product
# ("Price", "You Save", "Best Sellers Rank", "ASIN"): never read out as features.
_NOT_A_FEATURE = re.compile(r"price|save|brand|model|sku|asin|ean|gtin|upc|mpn|manufacturer|review|rating|rank"
                            r"|seller|shipping|delivery|date first|item number|warranty|返品|价格|价|品牌|型号"
                            # checkout rows in other languages: payment, postage, returns, "marca" = brand
                            r"|return|payment|postage|condition|item location|付款|運費|运费|分期|配送|退|marca|marque"
                            r"|marke|envío|envio|pago|pagamento|entrega|versand|livraison", re.I)


def usable(text: str) -> bool:
    """A feature a narrator can say: no markup/code/URLs, no run-together spec tables, no
    symbol glyphs (a voice reads "★★★★★" for seconds)."""
    return (bool(text) and not _JUNK.search(text) and len(text) <= 400 and not re.search(r"\(\d[\d,]*\)$", text)
            and not any(unicodedata.category(c) == "So" for c in text) and not text.rstrip().endswith("?"))


def product_facts(product: dict) -> ProductFacts:
    features: list[tuple[str, str]] = []
    raw_features = product.get("features") or []
    if not isinstance(raw_features, list):  # malformed facts: a lone string is one feature
        raw_features = [raw_features] if isinstance(raw_features, str) else []
    for i, text in enumerate(raw_features):
        if isinstance(text, str) and usable(text.strip()):
            features.append((f"features[{i}]", text.strip()))
    specs = product.get("specs") if isinstance(product.get("specs"), dict) else {}
    for key, value in specs.items():
        if isinstance(value, str) and usable(f"{key} {value}".strip()) and len(features) < 12 \
                and not _NOT_A_FEATURE.search(str(key)):
            features.append((f"specs.{key}", f"{key} {value.strip()}"))
    description = product.get("description")
    if isinstance(description, str) and len(description.split()) >= 4:
        first = re.split(r"(?<=[.!?])\s+|(?<=[。！？])", description.strip())[0][:300]
        if usable(first):
            features.append(("description", first))
    review_count = product.get("review_count")
    try:
        review_count = int(str(review_count).replace(",", "")) if review_count not in (None, "") else None
    except ValueError:
        review_count = None
    title = product.get("title") if isinstance(product.get("title"), str) else ""
    brand = product.get("brand") if isinstance(product.get("brand"), str) else None
    currency = product.get("currency") if isinstance(product.get("currency"), str) else None
    price, original = to_decimal(product.get("price")), to_decimal(product.get("original_price"))
    rating = to_decimal(product.get("rating"))
    return ProductFacts(
        name=short_name(title, brand),
        brand=brand or None,
        price=price if price is not None and price > 0 else None,  # "0" / negatives are not offers
        original_price=original if original is not None and original > 0 else None,
        currency=currency or None,
        rating=rating if rating is not None and 0 < rating <= 5 else None,  # ratings are out of five
        review_count=review_count if review_count and review_count > 0 else None,
        availability=product.get("availability"),
        features=features,
        description=description if isinstance(description, str) else None,
        url_name=url_name(product.get("canonical_url")),
    )
