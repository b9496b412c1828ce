"""Download product images safely: size-capped fetch (SSRF-guarded), Pillow verification,
pixel limits (decompression-bomb guard), content-hash and perceptual-hash de-duplication."""
from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from catalog.ingest.errors import IngestError
from catalog.ingest.fetch import fetch_url

log = logging.getLogger(__name__)
IMAGE_MAX_BYTES = 15 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_MIN_SIDE = 100           # smaller is an icon, a swatch or a tracking pixel
PHASH_MAX_DISTANCE = 4
_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "AVIF": "avif"}


@dataclass
class DownloadedImage:
    url: str
    data: bytes
    extension: str
    width: int
    height: int
    sha256: str
    phash: str


def dhash(image: Image.Image) -> str:
    """64-bit difference hash (hex): robust to resizing and recompression."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = list(small.getdata())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def inspect_image(data: bytes) -> tuple[str, int, int, str]:
    """(extension, width, height, phash) of verified image bytes; raises IngestError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                fmt, (width, height) = probe.format, probe.size
                if width * height > IMAGE_MAX_PIXELS:
                    raise IngestError(f"Image too large ({width}x{height} pixels).")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", (256, 256))  # JPEG: decode at reduced size for hashing
                phash = dhash(image)
        except IngestError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise IngestError("Image refused: too many pixels (decompression bomb guard).") from exc
        except Exception as exc:  # PIL raises many types on corrupt data
            raise IngestError(f"Not a valid image ({type(exc).__name__}).") from exc
    if fmt not in _FORMATS:
        raise IngestError(f"Unsupported image format {fmt}.")
    return _FORMATS[fmt], width, height, phash


# Obviously not a product photo, judged from the URL alone (so it is never fetched): tracking
# pixels and beacons, sprites, vector icons, logos, badges, map tiles, placeholders, and files
# whose name states a tiny size (Amazon _SS40_, eBay s-l64, Shopify _50x50, ?w=60).
_JUNK_URL = re.compile(
    r"\.svg(\?|$)|sprite|/pixel|[/_.-]pixel[/_.-]|spacer|blank\.|transparent\.|beacon|/tr\?|/b/ss/|doubleclick"
    r"|googletagmanager|google-analytics|facebook\.com/tr|/icons?/|[/_-]icon[/_.-]|favicon|[/_-]logo[/_.-]|/logos?/"
    r"|payment[-_]?(method|icon)|placeholder|loading\.|/tiles?/\d+/\d+/\d+|tile\.openstreetmap|maps\.googleapis"
    r"|staticmap|maps\.gstatic", re.I)
_TINY_SIZE = re.compile(r"_(?:SS|SX|SY|US|AC_US|AC_SS)(\d{1,2})_|[/_]s-l(\d{2})\.|_(\d{1,2})x(\d{1,2})[._@]"
                        r"|[?&](?:w|width|h|height|size)=(\d{1,2})(?:&|$)|/(\d{1,2})x(\d{1,2})/", re.I)
IMAGE_FETCH_WORKERS = 6
IMAGE_FETCH_PER_HOST = 3  # polite: at most this many requests to one host at a time


_TRACKING = re.compile(r"\.svg(\?|$)|/pixel|beacon|/tr\?|/b/ss/|doubleclick|google-analytics|facebook\.com/tr", re.I)


def junk_image_reason(url: str, *, main: bool = False) -> str | None:
    """Why ``url`` is not worth fetching as a product photo (None: fetch it). The main image
    (chosen by extraction) is judged only on hard signs: a product may be *called* "logo tee"."""
    if main:
        return "a tracking pixel or vector icon" if _TRACKING.search(url or "") else None
    if _JUNK_URL.search(url or ""):
        return "icon, logo, tracking pixel, sprite, map tile or placeholder (by its URL)"
    if _TINY_SIZE.search(url or ""):
        return f"its URL asks for a tiny rendition (< {IMAGE_MIN_SIDE} px)"
    return None


def _fetch_one(url: str, *, allowed_hosts, gates: dict, lock) -> DownloadedImage | None:
    from urllib.parse import urlsplit

    host = urlsplit(url).netloc.lower()
    with lock:
        gate = gates.setdefault(host, threading.BoundedSemaphore(IMAGE_FETCH_PER_HOST))
    with gate:
        try:
            # The per-host gate is the politeness here (a gallery lives on one CDN host).
            result = fetch_url(url, allowed_hosts=allowed_hosts, max_bytes=IMAGE_MAX_BYTES, rate_limit=False,
                               accept="image/avif,image/webp,image/png,image/jpeg,*/*;q=0.5", use_cache=False)
            extension, width, height, phash = inspect_image(result.content)
        except IngestError as exc:
            log.info("image skipped %s: %s", url, exc)
            return None
    if min(width, height) < IMAGE_MIN_SIDE:
        return None
    return DownloadedImage(url, result.content, extension, width, height,
                           hashlib.sha256(result.content).hexdigest(), phash)


def images_download(urls: list[str], *, max_images: int = 8, allowed_hosts=None) -> list[DownloadedImage]:
    """Fetch and verify up to ``max_images`` distinct pictures, kept in the given order (main
    first). URLs that are obviously not product photos are dropped before any fetch; the rest
    are fetched concurrently, at most IMAGE_FETCH_PER_HOST at a time per host. Failures are
    skipped (a broken thumbnail must not fail the product)."""
    candidates = []
    for index, url in enumerate(urls):
        reason = junk_image_reason(url, main=index == 0)
        if reason:
            log.info("image not fetched %s: %s", url, reason)
        elif url not in candidates:
            candidates.append(url)
    candidates = candidates[: max_images * 3]
    gates: dict = {}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=IMAGE_FETCH_WORKERS, thread_name_prefix="image-fetch") as pool:
        fetched = list(pool.map(lambda u: _fetch_one(u, allowed_hosts=allowed_hosts, gates=gates, lock=lock),
                                candidates))
    kept: list[DownloadedImage] = []
    for img in fetched:
        if img is None or len(kept) >= max_images:
            continue
        if any(k.sha256 == img.sha256 or hamming(k.phash, img.phash) <= PHASH_MAX_DISTANCE for k in kept):
            continue
        kept.append(img)
    return kept
