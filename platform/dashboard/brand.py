"""Brand kit: logo (validated), colours with contrast warnings, font, voice, tone and the
defaults the create page starts from; a sample frame shows the kit before any video."""
from __future__ import annotations

import io

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from PIL import Image, ImageDraw, ImageFont

from tenancy.models import Brand
from tenancy.services import audit_log_write

from .access import EDIT, VIEW, role_required
from .forms import BrandKitForm


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB colours (1..21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return round((la + 0.05) / (lb + 0.05), 2)


def contrast_warnings(brand: Brand) -> list[str]:
    """Pairs the templates draw text on: white/dark text on primary, the CTA on accent."""
    out = []
    pairs = [("white text on the primary colour", "#FFFFFF", brand.primary_color),
             ("dark text on the accent colour", "#0B0F19", brand.accent_color),
             ("primary on the secondary colour", brand.primary_color, brand.secondary_color)]
    for label, fg, bg in pairs:
        try:
            ratio = contrast_ratio(fg, bg)
        except (ValueError, IndexError):
            continue
        if ratio < 4.5:
            out.append(f"Low contrast ({ratio}:1) for {label}: aim for at least 4.5:1 so captions stay readable.")
    return out


def _brand_or_404(pk: int) -> Brand:
    brand = Brand.objects.filter(pk=pk).first()  # current workspace only (+ RLS)
    if brand is None:
        raise Http404
    return brand


@role_required(VIEW)
def brand_home(request):
    brand = Brand.objects.order_by("pk").first()
    return redirect("dashboard:brand-edit", pk=brand.pk) if brand else redirect("dashboard:brand-new")


@role_required(EDIT, write_only=True)
def brand_edit(request, pk: int | None = None):
    brand = _brand_or_404(pk) if pk else Brand(workspace=request.workspace)
    initial = {"default_aspects": brand.default_aspects or ["9:16"]}
    form = BrandKitForm(request.POST or None, request.FILES or None, instance=brand, initial=initial)
    if request.method == "POST" and form.is_valid():
        brand = form.save(commit=False)
        brand.workspace = request.workspace
        if Brand.objects.filter(name=brand.name).exclude(pk=brand.pk).exists():
            form.add_error("name", "Another brand of this workspace has this name.")
        else:
            brand.save()
            audit_log_write(workspace=request.workspace, action="brand.saved", actor=request.user, target=str(brand.pk))
            messages.success(request, "Brand kit saved.")
            return redirect("dashboard:brand-edit", pk=brand.pk)
    return render(request, "dashboard/brand.html", {
        "form": form, "brand": brand, "brands": Brand.objects.order_by("name"),
        "warnings": contrast_warnings(brand) if brand.pk else []})


@role_required(VIEW)
def brand_logo(request, pk: int):
    brand = _brand_or_404(pk)
    if not brand.logo:
        raise Http404
    from django.http import FileResponse

    return FileResponse(brand.logo.open("rb"))


def sample_frame(brand: Brand, *, size=(270, 480)) -> bytes:
    """A 9:16 sample frame in the kit: primary background, logo, a caption on accent."""
    w, h = size
    img = Image.new("RGB", size, brand.primary_color)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, int(h * 0.62), w, h], fill=brand.secondary_color)
    if brand.logo:
        try:
            with brand.logo.open("rb") as fh, Image.open(fh) as logo:
                logo = logo.convert("RGBA")
                logo.thumbnail((int(w * 0.4), int(h * 0.12)))
                img.paste(logo, (int((w - logo.width) / 2), int(h * 0.06)), logo)
        except (OSError, ValueError):
            pass
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 20)
    except OSError:
        font = ImageFont.load_default()
    draw.text((w / 2, h * 0.45), brand.name[:24], fill="#FFFFFF", font=font, anchor="mm")
    draw.rounded_rectangle([w * 0.15, h * 0.8, w * 0.85, h * 0.9], radius=12, fill=brand.accent_color)
    draw.text((w / 2, h * 0.85), "Shop now", fill="#0B0F19", font=font, anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


@role_required(VIEW)
def brand_sample(request, pk: int):
    return HttpResponse(sample_frame(_brand_or_404(pk)), content_type="image/png")


SAMPLE_LINES = {"en": "Hi! This is how {name} sounds in your videos.", "zh": "你好！这是{name}在视频里的声音。"}


def voice_sample_path(brand: Brand, *, voice: str | None = None):
    """Speak a short line in the brand's voice (or ``voice``, an already validated name) and
    language once; cached per (voice, language, name) in the workspace's media folder. Raises
    TTSError when no engine can speak it."""
    import hashlib
    import wave
    from pathlib import Path

    import numpy as np
    from django.conf import settings

    from generation.voice import get_backend

    voice = voice or brand.voice
    language = (brand.language or "en").split("-")[0]
    key = hashlib.sha256(f"{voice}|{language}|{brand.name}".encode()).hexdigest()[:16]
    path = Path(settings.MEDIA_ROOT) / f"workspaces/{brand.workspace_id}/brands/{brand.pk}/voice-{key}.wav"
    if path.is_file():
        return path
    text = SAMPLE_LINES.get(language, SAMPLE_LINES["en"]).format(name=brand.name)
    engine = get_backend(None, language, voice=voice or None, settings=settings.GENERATION)
    audio = engine.synth(text, language)
    pcm = (np.clip(audio.samples, -1, 1) * 32767).astype("<i2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(pcm)
    tmp.replace(path)
    return path


@role_required(VIEW)
def brand_voice_sample(request, pk: int):
    from django.http import FileResponse

    from generation.voice import TTSError

    from django import forms

    from .forms import clean_voice_name

    brand = _brand_or_404(pk)
    try:
        voice = clean_voice_name(request.GET.get("voice", ""))  # the create page's voice box
    except forms.ValidationError:
        return HttpResponse("Unknown voice name.", status=400, content_type="text/plain")
    try:
        path = voice_sample_path(brand, voice=voice)
    except TTSError as exc:
        return HttpResponse(f"No voice sample: {exc}", status=503, content_type="text/plain")
    return FileResponse(path.open("rb"), content_type="audio/wav")
