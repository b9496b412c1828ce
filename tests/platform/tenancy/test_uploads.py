"""#10.9: image uploads (logos, LoRA images) are checked by content, size and pixel count;
a real decompression-bomb PNG is refused from its header, before any decode."""
import io
import struct
import time
import tracemalloc
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tenancy.uploads import ImageUploadError, image_upload_validate

LIMITS = {"max_bytes": 2 * 1024 * 1024, "max_pixels": 4_000_000}


def _encode(fmt: str, size=(64, 48), mode="RGB", **kw) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else 0).save(out, fmt, **kw)
    return out.getvalue()


def _code(data, **kw) -> str:
    with pytest.raises(ImageUploadError) as info:
        image_upload_validate(data, **{**LIMITS, **kw})
    assert info.value.message  # always a readable sentence
    return info.value.code


@pytest.mark.parametrize("fmt, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_real_images_pass_with_their_sniffed_type(fmt, content_type):
    data = _encode(fmt)
    upload = SimpleUploadedFile("logo.gif", data, content_type="text/html")  # name and header are ignored
    image = image_upload_validate(upload, **LIMITS)
    assert (image.content_type, image.width, image.height, image.size_bytes) == (content_type, 64, 48, len(data))


def test_a_real_bomb_png_is_refused_before_decoding():
    bomb = _encode("PNG", size=(20_000, 20_000), mode="1")  # 400 Mpx in a few tens of KB
    assert len(bomb) < 200_000
    tracemalloc.start()
    started = time.monotonic()
    assert _code(bomb) == "too_many_pixels"
    assert _code(bomb, max_pixels=10**12) == "too_many_pixels"  # Pillow's own bomb guard still holds
    elapsed, peak = time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 20 * 1024 * 1024  # nothing was decoded


def test_a_forged_header_claiming_huge_dimensions_is_refused():
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    assert _code(png) == "too_many_pixels"


def test_other_types_too_large_empty_truncated_and_animated_are_refused():
    assert _code(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>") == "unsupported_type"
    assert _code(_encode("GIF")) == "unsupported_type"
    assert _code(b"") == "empty"
    assert _code(b"\x89PNG\r\n\x1a\n" + b"\x00" * 3 * 1024 * 1024) == "too_large"
    png = _encode("PNG", size=(300, 300))
    assert _code(png[: len(png) // 2]) == "corrupt"
    assert _code(b"\x89PNG\r\n\x1a\n" + b"not really a png") == "corrupt"
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    assert _code(out.getvalue()) == "animated"


@pytest.mark.django_db
def test_brand_logo_field_validates_and_stores_under_the_workspace(two_workspaces):
    from django import forms
    from django.core.files.storage import default_storage

    from tenancy.context import tenant_context
    from tenancy.models import Brand

    class LogoForm(forms.ModelForm):
        class Meta:
            model = Brand
            fields = ["name", "logo"]

    a = two_workspaces["a"]["workspace"]
    with tenant_context(a):
        bomb = SimpleUploadedFile("logo.png", _encode("PNG", size=(20_000, 20_000), mode="1"), "image/png")
        form = LogoForm({"name": "Bomb"}, {"logo": bomb}, instance=Brand(workspace=a))
        assert not form.is_valid() and "megapixels" in form.errors["logo"][0]
        svg = SimpleUploadedFile("logo.png", b"<svg onload='alert(1)'/>", "image/png")
        assert not LogoForm({"name": "Svg"}, {"logo": svg}, instance=Brand(workspace=a)).is_valid()
        png = _encode("PNG")
        form = LogoForm({"name": "Good"}, {"logo": SimpleUploadedFile("../../evil name.PNG", png, "image/png")},
                        instance=Brand(workspace=a))
        assert form.is_valid(), form.errors
        brand = form.save()
        assert brand.logo.name.startswith(f"workspaces/{a.pk}/brand/logos/") and brand.logo.name.endswith(".png")
        with default_storage.open(brand.logo.name, "rb") as stored:
            assert stored.read() == png  # validation rewound the upload before the save
