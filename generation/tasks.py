"""Celery autodiscovery entry point for the generation app."""
from generation.jobs.tasks import video_job_stage_task, video_job_sweep_task  # noqa: F401
