"""Download product images safely: size-capped fetch (SSRF-guarded), Pillow verification,
pixel limits (decompression-bomb guard), content-hash and perceptual-hash de-duplication."""
from __future__ import annotations

import hashlib
import io
import logging
import warnings
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


def images_download(urls: list[str], *, max_images: int = 8, allowed_hosts=None) -> list[DownloadedImage]:
    """Fetch and verify up to ``max_images`` distinct pictures, in the given order; failures
    are skipped (a broken thumbnail must not fail the product)."""
    kept: list[DownloadedImage] = []
    for url in urls[: max_images * 3]:
        if len(kept) >= max_images:
            break
        try:
            result = fetch_url(url, allowed_hosts=allowed_hosts, max_bytes=IMAGE_MAX_BYTES,
                               accept="image/avif,image/webp,image/png,image/jpeg,*/*;q=0.5", use_cache=False)
            extension, width, height, phash = inspect_image(result.content)
        except IngestError as exc:
            log.info("image skipped %s: %s", url, exc)
            continue
        if min(width, height) < IMAGE_MIN_SIDE:
            continue
        sha = hashlib.sha256(result.content).hexdigest()
        if any(img.sha256 == sha or hamming(img.phash, phash) <= PHASH_MAX_DISTANCE for img in kept):
            continue
        kept.append(DownloadedImage(url, result.content, extension, width, height, sha, phash))
    return kept
