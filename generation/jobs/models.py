"""VideoJob: one product link -> one rendered ad, run stage by stage by Celery workers."""
from __future__ import annotations

from django.db import models

from tenancy.managers import TenantModel

STAGES = ("ingest", "script", "voice", "shots", "render")
# Stages that need only the script run side by side (two messages, two workers); the render
# waits for both: a join counted on the job row (``VideoJob.branches``), see runner/services.
PARALLEL_STAGES = ("voice", "shots")
STAGE_QUEUES = {"ingest": "default", "script": "default", "voice": "default", "shots": "gpu", "render": "render"}
# Rough share of the whole job's wall time, for the progress bar.
STAGE_WEIGHTS = {"ingest": 10, "script": 5, "voice": 20, "shots": 20, "render": 45}


class VideoJob(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    brand = models.ForeignKey("tenancy.Brand", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product_url = models.URLField(max_length=2000)
    template = models.CharField(max_length=60)
    aspect = models.CharField(max_length=5, default="9:16")
    language = models.CharField(max_length=10, default="en")
    duration_s = models.PositiveSmallIntegerField(default=15)
    # API v1 options: one request (request_id) makes one job per variant × aspect.
    request_id = models.CharField(max_length=40, blank=True, db_index=True)
    variant = models.PositiveSmallIntegerField(default=0)
    voice = models.CharField(max_length=80, blank=True, help_text="TTS voice override; empty = the brand's")
    framework = models.CharField(max_length=40, blank=True, help_text="script framework override; empty = the template's")
    music = models.CharField(max_length=60, blank=True, help_text="music choice; empty = the template's")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=10, default="ingest")
    progress = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    attempts = models.JSONField(default=dict, blank=True, help_text="stage -> number of starts")
    timings = models.JSONField(default=dict, blank=True, help_text="stage -> seconds")
    cpu_timings = models.JSONField(default=dict, blank=True,
                                   help_text="stage -> CPU seconds (the worker process + the tools it ran: ffmpeg, espeak)")
    outputs = models.JSONField(default=dict, blank=True, help_text="name -> media-relative path")
    # While voice and shots run side by side, each has its own holder here (the job-level
    # worker/heartbeat fields serve the sequential stages): stage -> {"state": queued|running|
    # done, "worker", "task_id", "heartbeat_at", "started_at"} (ISO times). Written only under
    # the job's row lock.
    branches = models.JSONField(default=dict, blank=True, help_text="parallel stage -> its holder and state")
    worker = models.CharField(max_length=120, blank=True, help_text="host:pid running the current stage")
    stage_task_id = models.CharField(max_length=64, blank=True, help_text="Celery id of the current stage's message")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True, help_text="when the current stage's run began")
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"VideoJob {self.pk} ({self.status}/{self.stage})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELED}

    def media_dir(self) -> str:
        """Deterministic, media-relative output folder: a retried stage overwrites its files."""
        return f"workspaces/{self.workspace_id}/jobs/{self.pk}"
