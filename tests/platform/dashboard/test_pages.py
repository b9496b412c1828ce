"""Brand kit (logo limits, contrast warnings, sample frame), API keys (secret once, revoke),
library zip (streamed, own videos only), usage figures, re-render edits of a timeline."""
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dashboard.brand import contrast_ratio
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import ApiKey, Brand

from .conftest import login

pytestmark = pytest.mark.django_db


def _png(size=(64, 64), color="#FF0000") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _brand_post(brand, **over):
    data = {"name": brand.name, "primary_color": "#0F3D3E", "secondary_color": "#F4F0E8", "accent_color": "#F59E0B",
            "font_family": "Inter", "voice": "", "tone": "friendly", "language": "en",
            "default_template": "product_showcase", "default_aspects": ["9:16", "1:1"]}
    return {**data, **over}


def test_brand_kit_saves_a_valid_logo_and_shows_it_on_the_sample_frame(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    logo = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    response = client.post(reverse("dashboard:brand-edit", args=[a["brand"].pk]), {**_brand_post(a["brand"]), "logo": logo})
    assert response.status_code == 302
    with tenant_context(a["workspace"]):
        brand = Brand.objects.get(pk=a["brand"].pk)
    assert brand.logo and brand.default_aspects == ["9:16", "1:1"] and brand.primary_color == "#0F3D3E"
    sample = Image.open(io.BytesIO(client.get(reverse("dashboard:brand-sample", args=[brand.pk])).content))
    assert sample.size == (270, 480)
    assert sample.convert("RGB").getpixel((135, 40)) == (255, 0, 0)  # the red logo sits at the top
    assert sample.convert("RGB").getpixel((5, 200)) == (15, 61, 62)  # primary background


@pytest.mark.parametrize("payload,message", [
    (b"GIF89a" + b"\0" * 100, "Only PNG, JPEG and WebP"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Only PNG, JPEG and WebP"),
    ("huge", "the limit is 16 megapixels"),
    ("big-bytes", "larger than 2 MB"),
])
def test_brand_kit_refuses_bad_logos_next_to_the_field(client, two_workspaces, payload, message):
    a = two_workspaces["a"]
    login(client, a["user"])
    if payload == "huge":  # a decompression bomb: tiny file, 100 megapixels
        out = io.BytesIO()
        Image.new("1", (10000, 10000)).save(out, format="PNG")
        payload = out.getvalue()
    elif payload == "big-bytes":
        payload = _png() + b"\0" * (2 * 1024 * 1024 + 1)
    logo = SimpleUploadedFile("logo.png", payload, content_type="image/png")
    response = client.post(reverse("dashboard:brand-edit", args=[a["brand"].pk]), {**_brand_post(a["brand"]), "logo": logo})
    assert response.status_code == 200 and message in response.content.decode()
    with tenant_context(a["workspace"]):
        assert not Brand.objects.get(pk=a["brand"].pk).logo


def test_low_contrast_colours_are_warned(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    client.post(reverse("dashboard:brand-edit", args=[a["brand"].pk]), _brand_post(a["brand"], primary_color="#FFFF00"))
    page = client.get(reverse("dashboard:brand-edit", args=[a["brand"].pk])).content.decode()
    assert "Low contrast" in page and "white text on the primary colour" in page
    assert contrast_ratio("#FFFFFF", "#000000") == 21.0


def test_api_key_secret_is_shown_once_and_revoke_works(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    page = client.post(reverse("dashboard:keys"), {"name": "Shopify sync", "scopes": ["videos:read"]})
    key = ApiKey.objects.get(workspace=a["workspace"])
    secret = page.context["secret"]
    assert secret.startswith(key.prefix) and secret in page.content.decode() and key.scopes == ["videos:read"]
    assert page["Cache-Control"] == "no-store"
    assert secret not in client.get(reverse("dashboard:keys")).content.decode()
    assert ApiKey.hash_key(secret) == key.key_hash
    client.post(reverse("dashboard:key-revoke", args=[key.prefix]))
    key.refresh_from_db()
    assert key.revoked_at is not None
    other = ApiKey.objects.create(workspace=two_workspaces["b"]["workspace"], name="b", prefix="adf_bbbb",
                                  key_hash="0" * 64, scopes=[])
    assert client.post(reverse("dashboard:key-revoke", args=[other.prefix])).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def _finished_job(ws, name="a") -> VideoJob:
    with tenant_context(ws["workspace"]):
        job = VideoJob.objects.create(workspace=ws["workspace"], brand=ws["brand"], product_url="https://x.example",
                                      template="product_showcase", status="succeeded", progress=100)
        folder = Path(settings.MEDIA_ROOT) / job.media_dir() / "render"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "video.mp4").write_bytes(b"mp4-" + name.encode() * 1000)
        (folder / "captions.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
        job.outputs = {"video": f"{job.media_dir()}/render/video.mp4", "captions": f"{job.media_dir()}/render/captions.srt"}
        job.save()
    return job


def test_library_zip_streams_only_this_workspaces_videos(client, two_workspaces):
    mine, theirs = _finished_job(two_workspaces["a"], "a"), _finished_job(two_workspaces["b"], "b")
    login(client, two_workspaces["a"]["user"])
    response = client.post(reverse("dashboard:library-zip"), {"job": [mine.pk, theirs.pk]})
    assert response.status_code == 200 and response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names == [f"video-{mine.pk}-9x16.mp4", f"video-{mine.pk}-9x16.srt"]
    assert archive.read(names[0]).startswith(b"mp4-a")
    page = client.get(reverse("dashboard:library"), {"status": "succeeded"}).content.decode()
    assert f"video-{theirs.pk}" not in page and f'value="{mine.pk}"' in page


def test_library_filters_and_empty_state(client, two_workspaces):
    login(client, two_workspaces["a"]["user"])
    assert "No videos here yet" in client.get(reverse("dashboard:library")).content.decode()
    job = _finished_job(two_workspaces["a"])
    assert f'value="{job.pk}"' in client.get(reverse("dashboard:library"), {"aspect": "9:16"}).content.decode()
    assert "No videos here yet" in client.get(reverse("dashboard:library"), {"aspect": "1:1"}).content.decode()


def test_usage_shows_balance_and_members(client, two_workspaces):
    login(client, two_workspaces["a"]["user"])
    _finished_job(two_workspaces["a"])
    page = client.get(reverse("dashboard:usage"))
    assert page.status_code == 200 and page.context["balance"] == 10
    assert page.context["members"][0]["ready"] == 1 and len(page.context["series"]) == 30


def test_voice_sample_is_spoken_once_and_cached(client, two_workspaces):
    import wave

    a = two_workspaces["a"]
    login(client, a["user"])
    url = reverse("dashboard:brand-voice", args=[a["brand"].pk])
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(b"".join(first.streaming_content))) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.5
    cached = list((Path(settings.MEDIA_ROOT) / f"workspaces/{a['workspace'].pk}/brands/{a['brand'].pk}").glob("voice-*.wav"))
    assert len(cached) == 1
    client.get(url)
    assert len(list(cached[0].parent.glob("voice-*.wav"))) == 1
    assert client.get(reverse("dashboard:brand-voice", args=[two_workspaces["b"]["brand"].pk])).status_code == 404


def test_lora_training_upload_queues_a_version_and_activate_needs_ready(client, two_workspaces,
                                                                       django_capture_on_commit_callbacks):
    from unittest import mock

    from generation.images.models import LoraVersion

    a = two_workspaces["a"]
    login(client, a["user"])
    url = reverse("dashboard:brand-lora", args=[a["brand"].pk])
    few = [SimpleUploadedFile(f"p{i}.png", _png((64, 64), "#00FF00"), content_type="image/png") for i in range(9)]
    assert "between 10 and 30" in client.post(url, {"images": few}).content.decode()
    pictures = [SimpleUploadedFile(f"p{i}.png", _png((64 + i, 64), "#0000FF"), content_type="image/png")
                for i in range(10)]
    with mock.patch("generation.images.tasks.lora_train_task.delay") as train, \
            django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"images": pictures}).status_code == 302
    with tenant_context(a["workspace"]):
        version = LoraVersion.objects.get(brand=a["brand"])
    assert train.call_args.args == (a["workspace"].pk, version.pk)
    assert len(list((Path(settings.MEDIA_ROOT) / version.images_dir).glob("*.png"))) == 10
    activate = reverse("dashboard:brand-lora-activate", args=[a["brand"].pk, version.version])
    client.post(activate)
    with tenant_context(a["workspace"]):
        version.refresh_from_db()
        assert not version.is_active  # queued, not ready
        LoraVersion.objects.filter(pk=version.pk).update(status="ready")
    client.post(activate)
    with tenant_context(a["workspace"]):
        version.refresh_from_db()
    assert version.is_active
    assert client.get(reverse("dashboard:brand-lora", args=[two_workspaces["b"]["brand"].pk])).status_code == 404
