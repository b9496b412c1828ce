"""Secondary facts from the DOM: spec tables, feature bullets, rating and review count, and
gallery images. Generic cues only (labels, list shape, alt text, position near the title)."""
from __future__ import annotations

import json
import re

from catalog.ingest.extract.dom import _cls, _in_widget, _line, _text, _words, in_link_card, visible_text
from catalog.ingest.normalise import clean_text

_RATING = re.compile(r"(\d(?:[.,]\d)?)\s*(?:out of|von|sur|su|de|из|/)\s*5", re.I)
_REVIEWS = re.compile(r"(\d{1,3}(?:[,.\u202f\u00a0]\d{3})+|\d+)\s*(?:customer\s+)?(ratings?|reviews?|bewertungen|"
                      r"sternebewertungen|évaluations|avis|valutazioni|recensioni|reseñas|"
                      r"valoraciones|avaliações|отзыв\w*|件のレビュー|评价|리뷰)", re.I)
_BAD_IMG = re.compile(r"logo|icon|sprite|pixel|blank|spacer|transparent|placeholder|loading|"
                      r"badge|flag|avatar|rating|star|banner|\.svg|1x1|grey-?pixel", re.I)
# Pictures a shop shows that are never the product: payment badges, loading spinners, seasonal
# header doodles, author/expert headshots (path only: 'profileId=' in a query is harmless).
_NOT_PRODUCT = re.compile(r"spinner|paypal|mastercard|doodle|headshot|/authors?/|/experts?/|"
                          r"payment[-_]?(?:icon|logo|method|badge)|[/_-]visa[._-]", re.I)
_IMG_HIRES = ("data-old-hires", "data-zoom-image", "data-zoom", "data-large-image", "data-large", "data-full")
_IMG_LAZY = ("data-src", "data-lazy-src", "data-original", "data-lazy")
_PLACEHOLDER = re.compile(r"blank|placeholder|loading|spacer|transparent|lazy|pixel|^data:", re.I)


def _img_src(img) -> str | None:
    """High-resolution attribute first, then src unless it is a lazy-load placeholder."""
    for attr in _IMG_HIRES:
        if img.get(attr) and not img.get(attr).startswith("data:"):
            return img.get(attr)
    src = img.get("src")
    if src and not _PLACEHOLDER.search(src):
        return src
    return next((img.get(a) for a in _IMG_LAZY if img.get(a) and not img.get(a).startswith("data:")), src)


def find_specs(doc) -> dict:
    """Label → value pairs from two-cell table rows and definition lists (first 60)."""
    specs: dict[str, str] = {}
    for row in doc.xpath("//tr[count(th|td)=2] | //dl/dt")[:300]:
        if row.tag == "tr":
            cells = row.xpath("th|td")
            label, value = _text(cells[0], 80), _text(cells[1], 300)
        else:
            dd = row.getnext()
            if dd is None or dd.tag != "dd":
                continue
            label, value = _text(row, 80), _text(dd, 300)
        label = label.strip(" :：\u200e\u200f")
        if label and value and len(label) <= 60 and label not in specs and not _in_widget(row):
            specs[label] = value
        if len(specs) >= 60:
            break
    return specs


def find_features(doc, buckets, title_el=None) -> list[str]:
    """The feature/bullet list that reads like product bullets: several items of sentence
    length (breadcrumbs and menus are lists of one-or-two-word links)."""
    seen: set[int] = set()
    best, best_score = [], 0.0
    lists = [ul for b in buckets["features"][:60] for ul in b.iter("ul", "ol")]
    for el in lists[:200]:
        if id(el) in seen or _in_widget(el):
            continue
        seen.add(id(el))
        items = [t for t in (visible_text(li, 500) for li in el.xpath("./li")) if 3 <= len(t) <= 500]
        if len(items) < 2:
            continue
        avg_words = sum(len(t.split()) for t in items) / len(items)
        links = len(el.xpath("./li/a")) / len(items)
        distance = abs(_line(el) - _line(title_el)) if title_el is not None else 0
        score = min(avg_words, 8) + 0.5 * min(len(items), 8) - 10 * links - min(distance, 4000) / 1000
        if (avg_words >= 3 or links == 0) and score > max(best_score, 0):
            best, best_score = items, score
    return best[:20]


def find_rating(doc, buckets) -> tuple[str | None, str | None]:
    rating = reviews = None
    for el in buckets["rating"][:80]:
        if _in_widget(el):
            continue
        text = _text(el, 120) or el.get("title") or ""
        if rating is None and (m := _RATING.search(text) or _RATING.search(el.get("title") or "")):
            rating = m.group(1).replace(",", ".")
        if reviews is None and (m := _REVIEWS.search(text)):
            reviews = re.sub(r"\D", "", m.group(1))
        if rating and reviews:
            break
    return rating, reviews


_LOGO = re.compile(r"logo\s*$", re.I)  # alt 'Shop logo', class 'header-logo'; not 'Logo T-Shirt'

_TINY = re.compile(r"[-_/]\d{2}[x-]\d{2}\.(png|gif)$", re.I)  # '-16-16.png': an icon (photos are not 2-digit png)
_MAIN_IMG = re.compile(r"main|primary|hero|featured|landing", re.I)
_THUMB = re.compile(r"thumb|swatch|pagination|pager|more-?_?views|alt-?_?views|slick-slide|color-?_?chip|colou?r-?_?swatch", re.I)


def _near_cls(img, levels: int = 2) -> str:
    """Class/id strings of an image and its nearest ancestors (themes name the wrapper)."""
    parts = [_cls(img)]
    for i, anc in enumerate(img.iterancestors()):
        if i >= levels:
            break
        parts.append(_cls(anc))
    return " ".join(parts)


def _thumbnail(img) -> bool:
    """A thumbnail strip or swatch, or a zero-size preload box: not the picture on show."""
    if _THUMB.search(_near_cls(img, 4)):
        return True
    parent = img.getparent()
    style = (parent.get("style") or "").replace(" ", "") if parent is not None else ""
    return "width:0" in style or "height:0" in style


def find_images(doc, title_el, title: str | None = None) -> list[str]:
    """Image URLs: explicit link/meta hints, then large or gallery-classed images near the title."""
    urls: list[str] = [el.get("href") for el in doc.xpath("//link[@rel='image_src']") if el.get("href")]
    anchor = _line(title_el) if title_el is not None else 0
    title_words = _words(title or "")
    scored = []
    for img in doc.xpath("//img")[:600]:
        src = _img_src(img)
        dynamic = img.get("data-a-dynamic-image")
        if dynamic and dynamic.startswith("{"):
            try:
                sizes = json.loads(dynamic)
                src = max(sizes, key=lambda u: sizes[u][0] * sizes[u][1])
            except (ValueError, TypeError, IndexError, KeyError):
                pass
        if (not src or _BAD_IMG.search(src) or _NOT_PRODUCT.search(src.split("?", 1)[0])
                or _in_widget(img, 6, gallery_ok=True)):
            continue
        cls = f"{_cls(img)} {img.get('alt', '')}"
        try:
            width = int(img.get("width") or 0)
        except ValueError:
            width = 0
        if 0 < width < 120:
            continue
        alt_words = _words(img.get("alt") or img.get("title") or "")
        if ((_LOGO.search(img.get("alt", "")) and not (alt_words - {"logo"}) & title_words)  # not "Polo with logo"
                or "logo" in _cls(img).lower() or _TINY.search(src)):
            continue  # the shop's logo or an icon, whatever its file is called
        hint = bool(re.search(r"main|primary|hero|zoom|landing|product|gallery|large|featured", cls, re.I))
        named = bool(title_words) and len(alt_words & title_words) >= max(2, 0.6 * len(alt_words))
        distance = abs(_line(img) - anchor)
        exact = bool(title) and clean_text(img.get("alt") or "") == clean_text(title)
        # A thumbnail strip, a swatch or a card linking to another product shows other pictures
        # (or other products); the element the theme names main/hero holds the picture.
        thumb, card = _thumbnail(img), in_link_card(img)
        main = not (thumb or card) and _MAIN_IMG.search(_near_cls(img)) is not None
        scored.append((thumb, card, not exact, not main, not named, not hint, distance, len(scored), src))
    scored.sort()
    urls.extend(item[-1] for item in scored[:12])
    return urls


