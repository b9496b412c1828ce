"""The five stage services of a video job. Each reads the previous stages' files from the
job folder, calls a pure stage core with plain data, and writes its outputs at fixed paths
(a retry overwrites). They run inside the job's tenant context (see tasks)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings

from .errors import StageError, TransientError
from .models import VideoJob

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
    facts = product.as_facts()
    facts["image_files"] = [img.file.path for img in product.images.order_by("position") if img.file]
    _write_json(job_path(job, "product.json"), facts)
    return {"product": _rel(job_path(job, "product.json"))}


def _framework_for(template: str) -> str:
    from generation.video import TemplateError, load_template

    try:
        return load_template(template).framework
    except TemplateError as exc:
        raise StageError(f"Unknown video template {template!r}.") from exc


def stage_script(job: VideoJob) -> dict:
    from generation.scripts import ground_script, write_script

    facts = _read_json(job, "product.json")
    gen = settings.GENERATION
    script = write_script(facts, framework=job.framework or _framework_for(job.template), language=job.language,
                          duration=float(job.duration_s), seed=job.pk, backend=gen.script_backend,
                          brand=job.brand.as_style())
    script = ground_script(script, facts)
    _write_json(job_path(job, "script.json"), script.model_dump(mode="json"))
    return {"script": _rel(job_path(job, "script.json"))}


def stage_voice(job: VideoJob) -> dict:
    from generation.scripts import AdScript
    from generation.voice import synthesize

    script = AdScript.model_validate(_read_json(job, "script.json"))
    out_dir = job_path(job, "voice")
    out_dir.mkdir(exist_ok=True)
    synthesize(script, out_dir, voice=job.voice or job.brand.voice or None)
    return {"voice": _rel(out_dir / "voice.wav"), "captions_words": _rel(out_dir / "words.json")}


def stage_shots(job: VideoJob) -> dict:
    from generation.images import ProductImageError, make_shots
    from generation.images.services import lora_active_adapter
    from generation.scripts import AdScript

    facts = _read_json(job, "product.json")
    images = [Path(p) for p in facts.get("image_files") or [] if Path(p).exists()]
    if not images:
        raise StageError("The product page has no usable product image, so no shots can be made.")
    script = AdScript.model_validate(_read_json(job, "script.json"))
    requests = [{"kind": seg.shot.kind, "prompt": seg.shot.prompt, "segment": i}
                for i, seg in enumerate(script.segments())]
    gen = settings.GENERATION
    adapter = lora_active_adapter(brand=job.brand) if gen.shots_backend == "dit" else None
    out_dir = job_path(job, "shots")
    out_dir.mkdir(exist_ok=True)
    try:
        results = make_shots(product_images=images, requests=requests, brand=job.brand.as_style(),
                             out_dir=out_dir, backend=gen.shots_backend, n=gen.best_of_n, seed=job.pk,
                             lora=adapter.path if adapter else None, segmentation_dir=gen.segmentation_dir)
    except ProductImageError as exc:
        raise StageError(f"The product image cannot be used: {exc}") from exc
    shots = [{"path": str(r.path), "config": str(r.config_path), "kind": r.kind, "segment": r.segment,
              "fidelity": r.fidelity, "scores": r.scores} for r in results]
    _write_json(job_path(job, "shots.json"), shots)
    return {"shots": _rel(job_path(job, "shots.json"))}


def stage_render(job: VideoJob) -> dict:
    from generation.video import render, timeline_build
    from generation.video.edits import EDITS_FILE, timeline_edits_apply

    voice_dir = job_path(job, "voice")
    timeline = timeline_build(
        template=job.template, aspect=job.aspect, script=_read_json(job, "script.json"),
        voice=json.loads((voice_dir / "voice.json").read_text()), voice_dir=voice_dir,
        shots=_read_json(job, "shots.json"), product=_read_json(job, "product.json"),
        brand=job.brand.as_style(), scale=settings.GENERATION.render_scale)
    timeline = _with_music_choice(timeline, job.music)
    edits = job_path(job, EDITS_FILE)
    if edits.exists():  # PUT /api/v1/videos/{id}/timeline: the same build, then the integrator's edits
        timeline = timeline_edits_apply(timeline, json.loads(edits.read_text()))
    result = render(timeline, job_path(job), job_path(job, "render"))
    return {
        "video": _rel(result.video),
        "thumbnail": _rel(result.thumbnail),
        "captions": _rel(result.captions),
        "timeline": _rel(result.timeline_json),
    }


def _with_music_choice(timeline, music: str):
    """Apply the API's `music` option: a mood for the template's music bed, or `none` for no bed."""
    if not music:
        return timeline
    if music == "none":
        return timeline.model_copy(update={"layers": [la for la in timeline.layers if la.type != "music"]})
    return timeline.model_copy(update={"layers": [
        la.model_copy(update={"mood": music}) if la.type == "music" else la for la in timeline.layers]})


STAGE_SERVICES = {
    "ingest": stage_ingest,
    "script": stage_script,
    "voice": stage_voice,
    "shots": stage_shots,
    "render": stage_render,
}
