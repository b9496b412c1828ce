"""Celery autodiscovery entry point for the generation app: every task module is imported here."""
from generation.images.tasks import lora_train_task  # noqa: F401
from generation.jobs.tasks import video_job_stage_task, video_job_sweep_task  # noqa: F401
from generation.video.tasks import video_job_rerender_task  # noqa: F401
