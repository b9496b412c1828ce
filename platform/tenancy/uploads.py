"""Validation of uploaded images (brand logos, LoRA training images) before anything stores
or decodes them in full.

Order matters: size cap while reading (never more than max_bytes + 1 in memory), type by
content sniffing (the name and the client's Content-Type are ignored), then the pixel count
from the header alone — a decompression bomb (a few KB of PNG declaring 20,000 x 20,000
pixels) is refused before a single row is decoded — and only then a full decode to prove
the file is whole. PNG, JPEG and WebP only; animated images are refused."""
from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

# Signature -> (content type, extension, Pillow format name)
_PNG = (b"\x89PNG\r\n\x1a\n", ("image/png", "png", "PNG"))
_JPEG = (b"\xff\xd8\xff", ("image/jpeg", "jpg", "JPEG"))


class ImageUploadError(ValueError):
    """An upload that is not an acceptable image; ``code`` is stable, the message readable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ValidatedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def _read_bounded(file, max_bytes: int) -> bytes:
    if isinstance(file, (bytes, bytearray)):
        data = bytes(file[: max_bytes + 1])
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
        if hasattr(file, "seek"):
            file.seek(0)  # storage saves it next: from the start
    if len(data) > max_bytes:
        raise ImageUploadError("too_large", f"The image is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise ImageUploadError("empty", "The file is empty.")
    return data


def _sniff(data: bytes) -> tuple[str, str, str]:
    for magic, kind in (_PNG, _JPEG):
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("image/webp", "webp", "WEBP")
    raise ImageUploadError("unsupported_type", "Only PNG, JPEG and WebP images are accepted.")


def image_upload_validate(file, *, max_bytes: int | None = None, max_pixels: int | None = None) -> ValidatedImage:
    """Check an uploaded image (UploadedFile, file object or bytes); ImageUploadError if it
    is too large, not PNG/JPEG/WebP by content, has too many pixels, is animated or corrupt."""
    max_bytes = max_bytes or settings.UPLOAD_IMAGE_MAX_BYTES
    max_pixels = max_pixels or settings.UPLOAD_IMAGE_MAX_PIXELS
    data = _read_bounded(file, max_bytes)
    content_type, extension, pil_format = _sniff(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[pil_format])  # header only: nothing decoded yet
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise ImageUploadError("too_many_pixels", f"The image is {width} x {height} pixels; the limit is "
                                                          f"{max_pixels // 1_000_000} megapixels.")
            if getattr(image, "n_frames", 1) > 1:
                raise ImageUploadError("animated", "Animated images are not accepted; upload a still image.")
            image.load()  # full decode within the pixel budget: proves the file is whole
        except ImageUploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageUploadError("too_many_pixels", f"The image has too many pixels; the limit is "
                                                      f"{max_pixels // 1_000_000} megapixels.") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageUploadError("corrupt", f"The {extension.upper()} file is damaged or incomplete.") from exc
    return ValidatedImage(data=data, content_type=content_type, extension=extension, width=width, height=height,
                          sha256=hashlib.sha256(data).hexdigest())


def image_upload_field_validator(value) -> None:
    """Model/form field validator: the same checks, as a Django ValidationError."""
    from django.core.exceptions import ValidationError

    upload = getattr(value, "file", value)
    if getattr(value, "_committed", False) and not hasattr(upload, "content_type"):
        return  # an already stored file, not a new upload
    try:
        image_upload_validate(upload)
    except ImageUploadError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc


def brand_logo_path(instance, filename: str) -> str:
    """Logos live under their workspace's folder, like every tenant file (signed links and
    storage prefixes rely on it); the client's file name is reduced to a safe extension."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    extension = extension if extension in {"png", "jpg", "jpeg", "webp"} else "img"
    return f"workspaces/{instance.workspace_id}/brand/logos/{uuid.uuid4().hex}.{extension}"
