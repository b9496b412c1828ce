"""#10 fuzzing (bounded): damaged, truncated or random images never get past the validator
as anything but a clean ImageUploadError, and what passes is within the limits."""
import io

from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from tenancy.uploads import ImageUploadError, image_upload_validate

LIMITS = {"max_bytes": 64 * 1024, "max_pixels": 250_000}


def _encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 90)).save(out, fmt)
    return out.getvalue()


SEEDS = [_encoded("PNG"), _encoded("JPEG"), _encoded("WEBP")]


@st.composite
def damaged(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.integers(min_value=0, max_value=255))
    cut = draw(st.integers(min_value=1, max_value=len(data)))
    return bytes(data[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged() | st.binary(max_size=2000) | st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP"])
       .flatmap(lambda magic: st.binary(max_size=500).map(lambda tail: magic + tail)))
def test_damaged_images_are_clean_refusals(data):
    try:
        image = image_upload_validate(data, **LIMITS)
    except ImageUploadError as exc:
        assert exc.code in {"too_large", "empty", "unsupported_type", "too_many_pixels", "animated", "corrupt"}
        return
    assert image.width * image.height <= LIMITS["max_pixels"] and image.size_bytes <= LIMITS["max_bytes"]
    assert image.content_type in {"image/png", "image/jpeg", "image/webp"}
