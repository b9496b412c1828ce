"""Recognise pages that are not the product: CAPTCHA / robot checks, login walls and
"not found" pages served with HTTP 200. Extracting from them gives garbage (a CAPTCHA image
as the product photo), so ingest fails with the reason instead.

Signals are phrased generically (challenge widgets, page titles, password forms); a strong
challenge marker fails the page outright, weaker ones only when no product was found.
"""
from __future__ import annotations

import re

_CHALLENGE_MARKUP = re.compile(
    r"g-recaptcha|h-captcha|hcaptcha\.com/1/api|cf-challenge|challenge-platform|cf_chl_|px-captcha|"
    r"geo\.captcha-delivery\.com|/errors/validateCaptcha|captcha-container|arkoselabs|funcaptcha", re.I)
_CHALLENGE_TEXT = re.compile(
    r"robot check|are you a (human|robot)|verify (that )?you are (a )?human|i'?m not a robot|"
    r"unusual traffic|enter the characters you see|type the characters|security check|"
    r"checking your browser|press (and|&) hold|access (to this page has been )?denied|"
    r"bot detection|please complete the captcha|captcha", re.I)
_LOGIN_TITLE = re.compile(r"\b(sign[ -]?in|log[ -]?in|login|anmelden|connexion|iniciar sesión|accedi|"
                          r"войти|登录|ログイン)\b", re.I)
_NOT_FOUND = re.compile(
    r"\b404\b|page not found|not found|page (you requested|you are looking for) (could not|cannot|can't)|"
    r"no longer exists|seite nicht gefunden|page introuvable|página no encontrada|pagina non trovata|"
    r"página não encontrada|страница не найдена|页面不存在|找不到页面|ページが見つかりません", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_PASSWORD = re.compile(r"<input[^>]+type=[\"']?password", re.I)


def _visible_words(html: str) -> int:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.I | re.S)
    return len(_TAG.sub(" ", body).split())


def block_reason(html: str, *, facts: dict) -> str | None:
    """A user-readable reason when the page is a challenge, login wall or missing page.

    ``facts`` is the extraction of the same page: a product stated in structured data wins
    over weak signals (shops put reCAPTCHA on review forms); a product guessed by heuristics
    does not (a CAPTCHA page has a title and an image too)."""
    from catalog.ingest.extract import has_product

    head = html[:200_000]
    title = _TAG.sub(" ", (_TITLE.search(head) or [None, ""])[1]).strip()
    h1 = _TAG.sub(" ", (_H1.search(head) or [None, ""])[1]).strip()
    prov = facts.get("provenance") or {}
    structured = any(prov.get(f, {}).get("source") in ("json-ld", "microdata", "rdfa", "platform")
                     for f in ("title", "price"))
    if structured and not _CHALLENGE_TEXT.search(title):
        return None
    small = _visible_words(html) < 400
    found = has_product(facts)
    if _CHALLENGE_MARKUP.search(head) and (not found or (small and not facts.get("price"))):
        return "The shop showed a CAPTCHA / bot check instead of the product page; it blocks automated visits."
    if _CHALLENGE_TEXT.search(title) or (small and not facts.get("price") and _CHALLENGE_TEXT.search(_TAG.sub(" ", head))):
        return "The shop showed a robot check instead of the product page; it blocks automated visits."
    if found and not small:
        return None
    if _PASSWORD.search(head) and (_LOGIN_TITLE.search(title) or _LOGIN_TITLE.search(h1) or small):
        return "The page asks to sign in; only publicly visible product pages can be imported."
    if _NOT_FOUND.search(title) or _NOT_FOUND.search(h1):
        return "The shop says this product page does not exist (it shows a 'not found' page)."
    return None
