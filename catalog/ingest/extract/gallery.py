"""The product's own gallery, read from the page's markup around the picture that structured
data names as the product's image.

- A slideshow shows its first slide: when og:image/JSON-LD names a *later* slide of the
  product's gallery (a close-up chosen as the share picture), the first slide is the main
  picture, and the named one stays in the list behind it.
- A link to an image file wrapping an ``<img>`` (a zoom link) shows the same picture as that
  image, at another size: the page itself equates the two URLs, so both are kept as names of
  the main picture (``provenance["images"]["lead_aliases"]``), even when the file names differ.

Generic markup only (slides, links, ``<img>``); nothing keys on a shop.
"""
from __future__ import annotations

import re

from catalog.ingest.extract.codes import _NOT_XML
from catalog.ingest.extract.details import _BAD_IMG, _IMG_HIRES, _IMG_LAZY, _img_src, _thumbnail
from catalog.ingest.extract.dom import _IMAGE_FILE, _in_widget
from catalog.ingest.normalise import absolute_url, image_identity

_MAX_ELEMENTS = 1500
_SHOWING_XPATH = "//body//img[{}] | //body//a[contains(@href, $s)]".format(
    " or ".join(f"contains(@{a}, $s)" for a in ("src", *_IMG_HIRES, *_IMG_LAZY)))
_ACTIVE = re.compile(r"(^|[\s_-])(active|selected|current|is-selected)($|[\s_-])", re.I)


def _named(el, base_url) -> str | None:
    raw = el.get("href") if el.tag == "a" else _img_src(el)
    if not raw or (el.tag == "a" and not _IMAGE_FILE.search(raw)) or _BAD_IMG.search(raw):
        return None
    return absolute_url(raw, base_url)


def _pictures(container, base_url) -> list[tuple[str, object]]:
    """(url, element) of each distinct picture inside a container, in document order."""
    seen, out = set(), []
    for el in container.iter("img", "a"):
        url = _named(el, base_url)
        if url and (key := image_identity(url)) not in seen:
            seen.add(key)
            out.append((url, el))
    return out


def _slide(el, container):
    """The child of ``container`` that holds ``el``."""
    node = el
    while node is not None and node.getparent() is not container:
        node = node.getparent()
    return node


def _hidden(slide) -> bool:
    style = (slide.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or slide.get("aria-hidden") == "true" or slide.get("hidden") is not None


def _active(slide) -> bool:
    return bool(_ACTIVE.search(slide.get("class") or ""))


def _slideshow_first(el, lead_key: str, base_url) -> str | None:
    """The first slide's picture when this picture is a later, hidden slide of the same
    slideshow and the first slide is the one on show; None otherwise."""
    for level, container in enumerate(el.iterancestors()):
        if level >= 4 or container.tag in ("body", "html"):
            return None
        pictures = _pictures(container, base_url)
        if len(pictures) < 2:
            continue
        first_url, first_el = pictures[0]
        if image_identity(first_url) == lead_key or _thumbnail(first_el) or _in_widget(container, 6, gallery_ok=True):
            return None
        lead_slide, first_slide = _slide(el, container), _slide(first_el, container)
        if lead_slide is None or first_slide is None or lead_slide is first_slide:
            return None
        shown = (_hidden(lead_slide) and not _hidden(first_slide)) or (_active(first_slide) and not _active(lead_slide))
        return first_url if shown else None
    return None


def _showing(doc, url: str, base_url) -> list:
    """The elements naming the same picture as ``url``: libxml2 first finds those whose
    attributes hold the file-name stem (a rendition keeps its original's stem), then the full
    identity is compared for those only."""
    key = image_identity(url)
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    at = url.lower().rfind(stem) if stem else -1
    if at < 0 or len(stem) < 3 or _NOT_XML.search(url):
        return []
    stem = url[at: at + len(stem)]  # as the page spells it (XPath contains() is case-sensitive)
    found = doc.xpath(_SHOWING_XPATH, s=stem)
    return [el for el in found[:_MAX_ELEMENTS] if (u := _named(el, base_url)) and image_identity(u) == key]


def gallery_lead(doc, images: list[str], *, base_url: str | None) -> tuple[list[str], str | None, list[str]]:
    """(images reordered, the URL that now leads or None when unchanged, aliases of the lead)."""
    if not images:
        return images, None, []
    lead_key = image_identity(images[0])
    elements = _showing(doc, images[0], base_url)
    moved = None
    for el in elements:
        if (first := _slideshow_first(el, lead_key, base_url)):
            rest = [u for u in images if image_identity(u) != image_identity(first)]
            images, moved, lead_key = [first, *rest], first, image_identity(first)
            elements = _showing(doc, first, base_url)
            break
    aliases: list[str] = []
    for el in elements:
        if el.tag == "a":  # a zoom link: the picture inside it is the same one
            inner = next((i for i in el.iter("img") if _named(i, base_url)), None)
            aliases += [_named(inner, base_url)] if inner is not None else []
        else:
            link = next((a for a in el.iterancestors("a") if _named(a, base_url)), None)
            aliases += [_named(link, base_url)] if link is not None else []
    aliases = [a for a in dict.fromkeys(aliases) if image_identity(a) != lead_key]
    return images, moved, aliases[:4]
