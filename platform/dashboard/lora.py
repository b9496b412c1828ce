"""Brand LoRA from the brand kit: upload 10-30 pictures of the product/brand style, start a
training run, follow its state, activate a ready version. Training itself is
generation.images (needs the DiT shots backend)."""
from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from generation.images.models import LoraVersion
from generation.images.services import lora_version_activate, lora_version_create
from tenancy.services import audit_log_write

from .access import EDIT, VIEW, role_required
from .brand import _brand_or_404

MIN_IMAGES, MAX_IMAGES = 10, 30
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 4096 * 4096
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class TrainingImagesField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not MIN_IMAGES <= len(files) <= MAX_IMAGES:
            raise forms.ValidationError(f"Upload between {MIN_IMAGES} and {MAX_IMAGES} pictures ({len(files)} given).")
        return [training_image_validate(f) for f in files]


def training_image_validate(upload) -> tuple[bytes, str]:
    """(bytes, extension) of one checked picture: type by content, bytes, pixel count before decode."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > IMAGE_MAX_BYTES:
        raise forms.ValidationError(f"{upload.name}: larger than 10 MB.")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in FORMATS:
                raise forms.ValidationError(f"{upload.name}: use PNG, JPEG or WebP.")
            if img.width * img.height > IMAGE_MAX_PIXELS or min(img.size) < 64:
                raise forms.ValidationError(f"{upload.name}: between 64×64 and 4096×4096 pixels, please.")
            img.verify()
            ext = FORMATS[img.format]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise forms.ValidationError(f"{upload.name}: not a readable image.") from exc
    return data, ext


class TrainingForm(forms.Form):
    images = TrainingImagesField(label="Training pictures", help_text="10 to 30 pictures: PNG, JPEG or WebP.")


@role_required(EDIT, write_only=True)
def brand_lora(request, pk: int):
    brand = _brand_or_404(pk)
    form = TrainingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        folder = f"workspaces/{request.workspace.pk}/loras/brand{brand.pk}/uploads/{timezone.now():%Y%m%dT%H%M%S%f}"
        for n, (data, ext) in enumerate(form.cleaned_data["images"]):
            default_storage.save(f"{folder}/{n:02d}.{ext}", ContentFile(data))
        version = lora_version_create(brand=brand, images_dir=folder)
        audit_log_write(workspace=request.workspace, action="lora.queued", actor=request.user,
                        target=f"brand{brand.pk}/v{version.version}")
        messages.success(request, f"Training of version {version.version} queued.")
        return redirect("dashboard:brand-lora", pk=brand.pk)
    versions = list(LoraVersion.objects.filter(brand=brand).order_by("-version"))
    for v in versions:
        v.has_sample_grid = lora_sample_grid(v) is not None
    return render(request, "dashboard/lora.html", {
        "brand": brand, "form": form, "versions": versions,
        "dit_enabled": settings.GENERATION.shots_backend == "dit"})


@require_POST
@role_required(EDIT)
def brand_lora_activate(request, pk: int, version: int):
    brand = _brand_or_404(pk)
    lora = LoraVersion.objects.filter(brand=brand, version=version).first()
    if lora is None:
        raise Http404
    try:
        lora_version_activate(lora_version=lora)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        audit_log_write(workspace=request.workspace, action="lora.activated", actor=request.user,
                        target=f"brand{brand.pk}/v{version}")
        messages.success(request, f"Version {version} is now used for new videos.")
    return redirect("dashboard:brand-lora", pk=brand.pk)


def lora_sample_grid(lora: LoraVersion):
    """The last sample grid training wrote next to a ready version's adapter
    (generation/images/training/recipe.py: ``samples-<step>.png``), or None. Only files inside
    the version's own workspace folder count, whatever the row's path says."""
    from pathlib import Path

    if lora.status != LoraVersion.Status.READY or not lora.path:
        return None
    media = Path(settings.MEDIA_ROOT).resolve()
    own = media / f"workspaces/{lora.workspace_id}"
    folder = (media / lora.path).parent.resolve()
    if not folder.is_relative_to(own) or not folder.is_dir():
        return None
    grids = sorted(folder.glob("samples-*.png"))
    return grids[-1] if grids else None


@role_required(VIEW)
def brand_lora_samples(request, pk: int, version: int):
    """The sample grid PNG of a ready version of this workspace's brand (404 otherwise)."""
    from django.http import FileResponse

    brand = _brand_or_404(pk)  # current workspace only (+ RLS)
    lora = LoraVersion.objects.filter(brand=brand, version=version).first()
    path = lora_sample_grid(lora) if lora is not None else None
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), content_type="image/png")
