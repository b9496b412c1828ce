"""Brand kit LoRA page: a ready version's sample grid (written by training next to the adapter,
generation/images/training/recipe.py) is shown and served only to its own workspace."""
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image

from generation.images.models import LoraVersion
from generation.images.services import lora_dir
from tenancy.context import tenant_context

from .conftest import login

pytestmark = pytest.mark.django_db


def _ready_version(ws, *, version=1, grid_color=None, path=None) -> LoraVersion:
    """A ready version whose training folder holds the adapter and, optionally, a sample grid
    laid out as train_lora writes them (``samples-<step>.png`` beside ``adapter.safetensors``)."""
    rel = lora_dir(workspace_id=ws["workspace"].pk, brand_id=ws["brand"].pk, version=version)
    folder = Path(settings.MEDIA_ROOT) / rel
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter.safetensors").write_bytes(b"\0")
    if grid_color:
        for step, color in ((50, "#000000"), (100, grid_color)):
            Image.new("RGB", (128, 32), color).save(folder / f"samples-{step:05d}.png")
    with tenant_context(ws["workspace"]):
        return LoraVersion.objects.create(workspace=ws["workspace"], brand=ws["brand"], version=version,
                                          images_dir=f"{rel}/uploads", status="ready",
                                          path=path or f"{rel}/adapter.safetensors")


def test_ready_version_shows_its_latest_sample_grid_to_its_workspace_only(client, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    _ready_version(a, version=1, grid_color="#FF0000")
    _ready_version(a, version=2)  # ready, but no grid written
    _ready_version(b, version=1, grid_color="#00FF00")
    login(client, a["user"])
    page = client.get(reverse("dashboard:brand-lora", args=[a["brand"].pk])).content.decode()
    own = reverse("dashboard:brand-lora-samples", args=[a["brand"].pk, 1])
    assert f'src="{own}"' in page and "Sample pictures made with version 1" in page
    assert "Sample pictures made with version 2" not in page
    response = client.get(own)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as img:
        assert img.convert("RGB").getpixel((0, 0)) == (255, 0, 0)  # the last step's grid
    assert client.get(reverse("dashboard:brand-lora-samples", args=[a["brand"].pk, 2])).status_code == 404
    # Workspace B's version: 404 through B's brand, and A's brand has no such grid either.
    assert client.get(reverse("dashboard:brand-lora-samples", args=[b["brand"].pk, 1])).status_code == 404
    login(client, b["user"])
    response = client.get(reverse("dashboard:brand-lora-samples", args=[b["brand"].pk, 1]))
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as img:
        assert img.convert("RGB").getpixel((0, 0)) == (0, 255, 0)


def test_a_queued_version_or_a_path_outside_the_workspace_serves_nothing(client, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    _ready_version(b, version=1, grid_color="#00FF00")
    b_rel = lora_dir(workspace_id=b["workspace"].pk, brand_id=b["brand"].pk, version=1)
    _ready_version(a, version=1, path=f"{b_rel}/adapter.safetensors")  # a row pointing into B's folder
    with tenant_context(a["workspace"]):
        LoraVersion.objects.create(workspace=a["workspace"], brand=a["brand"], version=2, images_dir="x",
                                   status="queued")
    login(client, a["user"])
    for version in (1, 2):
        assert client.get(reverse("dashboard:brand-lora-samples", args=[a["brand"].pk, version])).status_code == 404
