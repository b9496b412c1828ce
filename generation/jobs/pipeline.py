"""The five stage services of a video job. Each reads the previous stages' files from the job
folder *validated into their spine types* (``ProductFacts`` → ``AdScript`` → ``VoiceTrack`` +
``Shot``s → ``Timeline``), calls a pure stage core, and writes its outputs at fixed paths (a
retry overwrites). Files are referred to by storage-relative key, never by absolute server
path. They run inside the job's tenant context (see tasks)."""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import StageError, TransientError
from .models import VideoJob
from .services import LANGUAGE_AUTO

logger = logging.getLogger(__name__)


def job_path(job: VideoJob, *parts: str) -> Path:
    path = Path(settings.MEDIA_ROOT) / job.media_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path.joinpath(*parts)


def _rel(path: Path) -> str:
    return str(Path(path).resolve().relative_to(Path(settings.MEDIA_ROOT).resolve()))


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    tmp.replace(path)  # atomic: a reader never sees half a file


def _read_json(job: VideoJob, name: str):
    path = job_path(job, name)
    if not path.exists():
        raise StageError(f"Missing {name}: an earlier step did not finish.")
    return json.loads(path.read_text())


def _read(job: VideoJob, name: str, model):
    """``name`` from the job folder, validated as ``model`` (a pydantic model or TypeAdapter).
    A document that does not match its type (a renamed field, a wrong type) stops the job
    with a clear reason instead of reaching the video half-read."""
    data = _read_json(job, name)
    try:
        return model.validate_python(data) if isinstance(model, TypeAdapter) else model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StageError(f"{name} is not a valid {getattr(model, '__name__', 'document')}: {where}: {first['msg']}") from exc


def _write_model(path: Path, model: BaseModel | list) -> None:
    data = [m.model_dump(mode="json") for m in model] if isinstance(model, list) else model.model_dump(mode="json")
    _write_json(path, data)


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def stage_ingest(job: VideoJob) -> dict:
    from catalog.ingest.errors import IngestError
    from catalog.services import product_ingest

    if job.product_id is not None:  # previewed (and maybe corrected) in the dashboard: use it as is
        product = job.product
    else:
        try:
            product = product_ingest(workspace=job.workspace, url=job.product_url)
        except IngestError as exc:
            if getattr(exc, "transient", False):
                raise TransientError(str(exc)) from exc
            raise StageError(str(exc)) from exc
        VideoJob.objects.filter(pk=job.pk).update(product=product)
    facts = product.to_facts()
    _write_model(job_path(job, "product.json"), facts)
    if job.language == LANGUAGE_AUTO:
        job.language = job_language_resolve(facts=facts, brand_language=job.brand.language)
        VideoJob.objects.filter(pk=job.pk).update(language=job.language)
    return {"product": _rel(job_path(job, "product.json"))}


def _template_tail(template: str) -> float:
    """Seconds the template holds its end card after the voice (0 for an unknown template:
    the render stage reports that one)."""
    from generation.video import TemplateError, load_template

    try:
        return float(load_template(template).tail)
    except TemplateError:
        return 0.0


def _framework_for(template: str) -> str:
    from generation.video import TemplateError, load_template

    try:
        return load_template(template).framework
    except TemplateError as exc:
        raise StageError(f"Unknown video template {template!r}.") from exc


def job_language_resolve(*, facts, brand_language: str) -> str:
    """The script language of a job whose caller chose none: Chinese for a Chinese product
    page, otherwise the brand's language."""
    from generation.scripts.language import language_for_product

    return "zh" if language_for_product(facts.as_script_input()) == "zh" else (brand_language or "en")


def stage_script(job: VideoJob) -> dict:
    from catalog.facts import ProductFacts
    from generation.scripts import ground_script, script_claims_gate, write_script

    facts = _read(job, "product.json", ProductFacts).as_script_input()
    gen = settings.GENERATION
    brand = job.brand.as_style()
    script = write_script(facts, framework=job.framework or _framework_for(job.template), language=job.language,
                          duration=float(job.duration_s), seed=job.pk, backend=gen.script_backend,
                          brand=brand)
    approved = tuple(brand.get("approved_claims") or ())
    script = ground_script(script, facts, approved_claims=approved)
    _write_model(job_path(job, "script.json"), script)
    flags = script_claims_gate(script, facts, approved_claims=approved)  # quality gate: unsupported claims
    _write_json(job_path(job, "claims.json"), [f.model_dump() for f in flags])
    if flags:
        raise StageError("The script makes claims the product facts do not support: "
                         + "; ".join(f"{f.text!r} ({f.reason})" for f in flags[:3]))
    return {"script": _rel(job_path(job, "script.json")), "claims": _rel(job_path(job, "claims.json")),
            "claim_flags": len(flags)}


def stage_voice(job: VideoJob) -> dict:
    from generation.scripts import AdScript
    from generation.voice import synthesize
    from generation.voice.track import VoiceTrack

    script = _read(job, "script.json", AdScript)
    out_dir = job_path(job, "voice")
    out_dir.mkdir(exist_ok=True)
    # The video is the voice plus the template's end hold: an overrun is judged on both.
    synthesize(script, out_dir, voice=job.voice or job.brand.voice or None, hold_s=_template_tail(job.template))
    _read(job, "voice/voice.json", VoiceTrack)  # what the renderer will read must validate now
    return {"voice": _rel(out_dir / "voice.wav"), "captions_words": _rel(out_dir / "words.json")}


def stage_shots(job: VideoJob) -> dict:
    from catalog.facts import ProductFacts
    from generation.images import ProductImageError, Shot, make_shots
    from generation.images.services import lora_active_adapter
    from generation.scripts import AdScript

    facts = _read(job, "product.json", ProductFacts)
    images = good_images(facts)
    if not images:
        raise StageError("The product page has no usable product image, so no shots can be made.")
    script = _read(job, "script.json", AdScript)
    requests = [{"kind": seg.shot.kind, "prompt": seg.shot.prompt, "segment": i}
                for i, seg in enumerate(script.segments())]
    if len(images) < GOOD_IMAGES_FOR_FULL_SET:
        # Few real pictures: fewer shots (scenes share them) rather than padding with others.
        requests = requests[: max(2, 2 * len(images))]
    gen = settings.GENERATION
    adapter = lora_active_adapter(brand=job.brand) if gen.shots_backend == "dit" else None
    out_dir = job_path(job, "shots")
    out_dir.mkdir(exist_ok=True)
    try:
        results = make_shots(product_images=images, requests=requests, brand=job.brand.as_style(),
                             out_dir=out_dir, backend=gen.shots_backend, n=gen.best_of_n, seed=job.pk,
                             lora=adapter.path if adapter else None, segmentation_dir=gen.segmentation_dir,
                             size=_shot_size(job.aspect, gen.render_scale))
    except ProductImageError as exc:
        raise StageError(f"The product image cannot be used: {exc}") from exc
    key_of = {str(_media_root() / img.key): img.key for img in facts.images if img.key}
    shots = [Shot.from_result(r, root=_media_root()).model_copy(update={"source_image": key_of.get(_source_of(r))})
             for r in results]
    _write_model(job_path(job, "shots.json"), shots)
    return {"shots": _rel(job_path(job, "shots.json"))}


GOOD_IMAGES_FOR_FULL_SET = 3
GOOD_IMAGE_MIN_SIDE = 300


STRUCTURED_SOURCES = ("platform", "json-ld", "microdata", "rdfa", "opengraph")


def good_images(facts) -> list[Path]:
    """The product's own photos worth a shot: the main image always; the others when the
    page's structured data names them (its own gallery — pictures found only by DOM heuristics
    may show other products) and they are gallery-sized (not a thumbnail or swatch)."""
    out = []
    for k, img in enumerate(facts.images):
        path = _media_root() / img.key if img.key else None
        if path is None or not path.is_file():
            continue
        if k and (img.source not in STRUCTURED_SOURCES
                  or (img.width and img.height and min(img.width, img.height) < GOOD_IMAGE_MIN_SIDE)):
            continue
        out.append(path)
    return out


def _shot_size(aspect: str, scale: float) -> tuple[int, int]:
    """Shots are made at the ad's own aspect (a real 1:1 or 16:9 picture, not a vertical one
    with blurred bars) and no larger than the render needs (at least half size, for fidelity);
    sides are multiples of 16 for the DiT backends."""
    from generation.video.layout import canvas_size

    w, h = canvas_size(aspect, min(1.0, max(scale, 0.5)))
    return max(16, w // 16 * 16), max(16, h // 16 * 16)


def _source_of(result) -> str | None:
    try:
        return json.loads(Path(result.config_path).read_text()).get("source_image")
    except (OSError, ValueError):
        return None


def stage_render(job: VideoJob) -> dict:
    from catalog.facts import ProductFacts
    from generation.images import SHOT_LIST
    from generation.scripts import AdScript
    from generation.video import render, timeline_build
    from generation.video.presence import FrameSampler, ProductMatcher, presence_image, product_presence
    from generation.voice.track import VoiceTrack
    from generation.video.edits import EDITS_FILE, timeline_edits_apply

    t0 = time.perf_counter()
    voice_dir = job_path(job, "voice")
    product = _read(job, "product.json", ProductFacts)
    timeline = timeline_build(
        template=job.template, aspect=job.aspect, script=_read(job, "script.json", AdScript),
        voice=_read(job, "voice/voice.json", VoiceTrack), voice_dir=_rel(voice_dir),
        shots=_read(job, "shots.json", SHOT_LIST), product=product,
        brand=job.brand.as_style(), scale=settings.GENERATION.render_scale)
    timeline = _with_music_choice(timeline, job.music)
    edits = job_path(job, EDITS_FILE)
    if edits.exists():  # PUT /api/v1/videos/{id}/timeline: the same build, then the integrator's edits
        timeline = timeline_edits_apply(timeline, json.loads(edits.read_text()))
    # Assets are storage keys: render against the storage root, so timeline.json carries keys.
    built = time.perf_counter()
    sampler = FrameSampler(timeline)  # the gate looks at the encoded frames, kept as they stream
    image = presence_image(_media_root(), product)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate") as pool:
        # The gate's matcher (cutting the product out, ~0.35 s) is built while the first frames
        # are prepared, when the encoder is still waiting for them and a core is free.
        matcher = pool.submit(ProductMatcher, image) if image else None
        # The gate runs while ffmpeg encodes its last frames (the compose thread is idle then).
        result = render(timeline, _media_root(), job_path(job, "render"), on_frame=sampler,
                        after_frames=lambda: product_presence(
                            timeline, _media_root(), image=image, frames=sampler.frames,
                            matcher=matcher.result() if matcher else None))
    gate = result.after
    logger.info("video.rendered job=%s build_s=%.2f render_s=%.2f frames=%s", job.pk, built - t0, result.render_s,
                result.frames)
    _write_json(job_path(job, "render", "quality.json"), gate.as_dict())
    if not gate.ok:
        raise StageError(f"Quality gate: {gate.reason}")
    return {
        "video": _rel(result.video),
        "thumbnail": _rel(result.thumbnail),
        "captions": _rel(result.captions),
        "timeline": _rel(result.timeline_json),
        "quality": _rel(job_path(job, "render", "quality.json")),
    }


def _with_music_choice(timeline, music: str):
    """Apply the API's `music` option: a mood for the template's music bed, or `none` for no bed."""
    if not music:
        return timeline
    if music == "none":
        return timeline.model_copy(update={"layers": [la for la in timeline.layers if la.type != "music"]})
    return timeline.model_copy(update={"layers": [
        la.model_copy(update={"mood": music}) if la.type == "music" else la for la in timeline.layers]})


# Object storage (scale-out, docs/scaling.md): each stage pulls its inputs from the bucket and
# pushes its outputs before the runner commits the row; a no-op with local media.
from .artifacts import with_artifacts  # noqa: E402

STAGE_SERVICES = {
    "ingest": with_artifacts(stage_ingest),
    "script": with_artifacts(stage_script),
    "voice": with_artifacts(stage_voice),
    "shots": with_artifacts(stage_shots),
    "render": with_artifacts(stage_render),
}
