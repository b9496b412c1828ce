"""`manage.py demo`: the whole pipeline on the bundled sample product page, in process.

Serves the sample shop on loopback (explicitly allowed through the SSRF guard), creates a
job for the demo workspace and runs every stage with an in-process worker. Prints one line
per stage; the LAST line is the MP4's path."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.sample_shop import sample_shop_serve
from config.celery import app as celery_app
from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from generation.jobs.signals import stage_finished
from tenancy.context import tenant_context
from tenancy.demo import demo_workspace_ensure


class Command(BaseCommand):
    help = "Run the end-to-end demo on the bundled sample product page; prints the MP4 path last."

    def add_arguments(self, parser):
        parser.add_argument("--template", default="product_showcase")
        parser.add_argument("--aspect", default="9:16", choices=["9:16", "1:1", "16:9"])
        parser.add_argument("--duration", type=int, default=15)
        parser.add_argument("--language", default="en", choices=["en", "zh"])

    def handle(self, *args, template: str, aspect: str, duration: int, language: str, **options):
        started = time.monotonic()
        if options["verbosity"] < 2:  # keep the output to one line per stage; -v 2 shows the event log
            logging.getLogger().setLevel(logging.ERROR)
        _, workspace, brand = demo_workspace_ensure()
        celery_app.conf.task_always_eager = True  # the in-process worker: no broker needed

        def report(sender, job, stage, seconds, **kwargs):
            self.stdout.write(f"[demo] {stage:<7} done in {seconds:6.1f} s   ({job.progress:3d}%)")

        stage_finished.connect(report, dispatch_uid="demo-progress")
        with sample_shop_serve() as url:
            settings.CATALOG_SSRF_ALLOWED_HOSTS = [*settings.CATALOG_SSRF_ALLOWED_HOSTS, urlsplit(url).netloc]
            self.stdout.write(f"[demo] sample product page: {url}")
            job = video_job_create(workspace=workspace, brand=brand, product_url=url, template=template,
                                   aspect=aspect, language=language, duration_s=duration)
        stage_finished.disconnect(dispatch_uid="demo-progress")
        with tenant_context(workspace):
            job.refresh_from_db()
        if job.status != VideoJob.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status} at {job.stage}: {job.failure_reason}")
        self.stdout.write(f"[demo] total {time.monotonic() - started:.1f} s")
        self.stdout.write(str(Path(settings.MEDIA_ROOT) / job.outputs["video"]))
