"""The Celery app. Queues: default (ingest, scripts, voice), render (video), gpu (shots, LoRA)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("adfactory")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    # The embedded default (no REDIS_URL) uses kombu's filesystem transport, which needs its folder.
    folder = (sender.conf.broker_transport_options or {}).get("data_folder_in")
    if folder:
        os.makedirs(folder, exist_ok=True)
