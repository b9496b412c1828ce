"""The Celery app. Queues: default (ingest, scripts, voice), render (video), gpu (shots, LoRA)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("adfactory")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
