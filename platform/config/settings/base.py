"""Settings shared by every environment. Read from the environment with embedded defaults:
with nothing set you get SQLite, local media and an in-process worker."""
from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_float, env_int, env_list, env_path, env_str
from generation.config import GenerationSettings

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-insecure-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "tenancy",
    "campaigns",
    "catalog",
    "generation",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "config.db_unavailable.DatabaseUnavailableMiddleware",  # DB down -> 503 problem+json, not 500
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60,
        # A persistent connection that PostgreSQL dropped (restart, failover, terminated
        # backend) is noticed and replaced at the next request, with no restart (drill drop-db).
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")

# S3-compatible object storage (MinIO, R2, S3, moto's server) when AWS_STORAGE_BUCKET_NAME is
# set: every artifact (product images, job files, renders) lives in the bucket and MEDIA_ROOT
# is only each host's working copy (generation/jobs/artifacts.py, docs/scaling.md).
_S3_BUCKET = env_str("AWS_STORAGE_BUCKET_NAME", "")
# Lifetime of a signed download URL (seconds).
ARTIFACT_URL_EXPIRE_S = env_int("ARTIFACT_URL_EXPIRE_S", 300)


def _s3_options() -> dict:
    from botocore.config import Config

    return {
        "bucket_name": _S3_BUCKET,
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
        "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "path"),
        "signature_version": "s3v4",
        "file_overwrite": True,  # a retried stage rewrites the same keys
        "default_acl": None,  # private objects; downloads are signed URLs
        "querystring_auth": True,
        "querystring_expire": ARTIFACT_URL_EXPIRE_S,
        # A refusing bucket must fail a stage in seconds, not hang it.
        "client_config": Config(signature_version="s3v4", s3={"addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "path")},
                                connect_timeout=5, read_timeout=60,
                                retries={"max_attempts": env_int("AWS_S3_MAX_ATTEMPTS", 3), "mode": "standard"}),
    }


STORAGES = {
    "default": (
        {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options()}
        if _S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Celery: Redis in tests and production; with no REDIS_URL the embedded default uses
# kombu's filesystem broker (a `make worker` process) or runs tasks in-process (demo).
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the longest task (LoRA training), so a slow task is never redelivered while
        # it still runs; messages of a dead worker are restored promptly, and the job
        # sweeper re-queues anything stuck past its deadline.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 4 * 3600),
        "unacked_restore_interval": 5,
        # An unreachable Redis fails a publish fast (the API answers 503) instead of hanging.
        "socket_connect_timeout": env_float("CELERY_BROKER_CONNECT_TIMEOUT_S", 3.0),
    }
elif CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_CREATE_MISSING_QUEUES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Re-queues stages whose worker is gone (stale heartbeat); `make serve` runs one beat.
    "sweep-stuck-jobs": {"task": "generation.video_job_sweep", "schedule": env_float("JOBS_SWEEP_INTERVAL_S", 60.0)},
}
# A publish to a down broker fails within about a second (the API then answers 503), not
# after kombu's default retries.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECT_TIMEOUT_S", 3.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {},
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AdFactory API",
    "DESCRIPTION": "Product link in, brand-true marketing videos out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Hosts that may resolve to loopback/private addresses despite the SSRF guard: only the
# demo's bundled sample shop and test servers (host:port). Empty in production.
CATALOG_SSRF_ALLOWED_HOSTS = env_list("CATALOG_SSRF_ALLOWED_HOSTS", [])
CATALOG_FETCH_TIMEOUT_S = env_int("CATALOG_FETCH_TIMEOUT_S", 20)  # each connect / socket read
CATALOG_FETCH_DEADLINE_S = env_float("CATALOG_FETCH_DEADLINE_S", 30.0)  # whole fetch, by the clock
CATALOG_FETCH_MAX_BYTES = env_int("CATALOG_FETCH_MAX_BYTES", 8 * 1024 * 1024)
CATALOG_FETCH_MIN_INTERVAL_S = env_float("CATALOG_FETCH_MIN_INTERVAL_S", 1.0)  # per-host politeness
CATALOG_BROWSER_ENABLED = env_bool("CATALOG_BROWSER_ENABLED", True)
CATALOG_CHROMIUM_PATH = env_str("CATALOG_CHROMIUM_PATH", "/usr/bin/chromium")

CREDITS_PER_VIDEO = env_int("CREDITS_PER_VIDEO", 1)
CREDITS_NEW_WORKSPACE = env_int("CREDITS_NEW_WORKSPACE", 100)

GENERATION = GenerationSettings.from_env()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"kv": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
