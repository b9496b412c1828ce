"""The Celery app. Queues: default (ingest, scripts, voice), render (video), gpu (shots, LoRA)."""
import os
import sys

from celery import Celery, signals

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


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_rls_bypassing_role(sender=None, **kwargs):
    # Celery logs and swallows exceptions from signal handlers; SystemExit is what stops it.
    from django.core.exceptions import ImproperlyConfigured

    from tenancy.dbrole import database_role_require_if_configured

    try:
        database_role_require_if_configured(process="celery")
    except ImproperlyConfigured as exc:
        print(f"ImproperlyConfigured: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from exc


@signals.worker_process_init.connect
def _warm_worker_process(sender=None, **kwargs):
    # A prefork child that will run voice stages loads the Piper voice now, in the background
    # (this handler must return within worker_proc_alive_timeout), not in a brand's first job.
    from generation.jobs.artifacts import artifacts_warm_in_background
    from generation.voice.warm import voice_warm_in_background

    consume_from = app.amqp.queues.consume_from
    voice_warm_in_background(consumed_queues=set(consume_from) if consume_from else None)
    # and, with object storage, the bucket handles a stage's first pull would otherwise build
    artifacts_warm_in_background()
