"""Video jobs → `video.succeeded` / `video.failed` / `video.canceled`; trained LoRAs → `lora.ready`."""
from __future__ import annotations

import logging

from django.dispatch import receiver

from generation.images.services import lora_ready
from generation.jobs.models import VideoJob
from generation.jobs.signals import job_finished

from .events import webhook_event_emit

logger = logging.getLogger(__name__)
_EVENT_FOR_STATUS = {VideoJob.Status.SUCCEEDED: "video.succeeded", VideoJob.Status.FAILED: "video.failed",
                     VideoJob.Status.CANCELED: "video.canceled"}


def video_event_data(job: VideoJob) -> dict:
    """What a receiver needs to act without an extra GET (downloads: GET /videos/{id})."""
    failure = None
    if job.status == VideoJob.Status.FAILED:
        failure = {"code": f"{job.stage}_failed", "reason": job.failure_reason}
    return {"id": job.pk, "request_id": job.request_id, "variant": job.variant, "status": job.status,
            "stage": job.stage, "aspect": job.aspect, "template": job.template, "brand": job.brand_id,
            "product_url": job.product_url, "failure": failure,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@receiver(job_finished, dispatch_uid="api.webhooks.video_events")
def _video_finished(sender, job: VideoJob, **kwargs) -> None:
    event_type = _EVENT_FOR_STATUS.get(job.status)
    if event_type is None:
        return
    try:
        webhook_event_emit(workspace=job.workspace, event_type=event_type, data=video_event_data(job))
    except Exception:  # noqa: BLE001 - a webhook bookkeeping failure must not fail the finished job
        logger.exception("webhook.emit_failed job=%s event=%s", job.pk, event_type)


@receiver(lora_ready, dispatch_uid="api.webhooks.lora_ready")
def _lora_ready(sender, lora_version, **kwargs) -> None:
    data = {"brand": lora_version.brand_id, "lora": lora_version.pk, "version": lora_version.version,
            "is_active": lora_version.is_active,
            "trained_at": lora_version.trained_at.isoformat() if lora_version.trained_at else None}
    try:
        webhook_event_emit(workspace=lora_version.workspace, event_type="lora.ready", data=data)
    except Exception:  # noqa: BLE001 - the adapter is trained and active whatever happens to the event
        logger.exception("webhook.emit_failed lora=%s event=lora.ready", lora_version.pk)
