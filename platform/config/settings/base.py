"""Settings shared by every environment. Read from the environment with embedded defaults:
with nothing set you get SQLite, local media and an in-process worker."""
from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_float, env_int, env_list, env_path, env_str
from generation.config import GenerationSettings

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

# Empty = the development default, which production settings refuse to start with.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "") or "dev-insecure-change-me"
# Debug is opt-in everywhere (DJANGO_DEBUG=1): its 500 page and media serving are for a
# developer's own machine, never the default of anything that listens on a socket.
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
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served by us (offline-safe)
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "tenancy",
    "campaigns",
    "catalog",
    "generation",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # first: probes skip host checks and the https redirect
    "config.db_unavailable.DatabaseUnavailableMiddleware",  # DB down -> 503 problem+json, not 500
    "django.middleware.security.SecurityMiddleware",
    "api.fast_status.VideoStatusFastPath",  # GET /api/v1/videos/{id}: the hot poll, see its docstring
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
# Error pages and mails never show credentials (URL passwords, SECRET_KEY, env secrets).
DEFAULT_EXCEPTION_REPORTER = "config.reporting.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.reporting.CredentialRedactingFilter"
# Request bodies: size cap for anything read into memory (JSON, forms), and a nesting cap
# for JSON (a 100,000-deep array would otherwise exhaust the parser's recursion).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)
# Image uploads (brand logos, LoRA training images): see tenancy/uploads.py.
UPLOAD_IMAGE_MAX_BYTES = env_int("UPLOAD_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_IMAGE_MAX_PIXELS = env_int("UPLOAD_IMAGE_MAX_PIXELS", 40_000_000)
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
# Migrations run as the table-owner role (`manage.py db_migrate` connects with this URL);
# web and workers connect with DATABASE_URL as a plain role that owns nothing and obeys RLS.
DATABASE_MIGRATE_URL = env_str("DATABASE_MIGRATE_URL", "")
# Refuse to start web/worker processes whose database role can bypass row-level security
# (superuser, BYPASSRLS, or owner of a tenant table). On in production settings.
TENANCY_REQUIRE_RLS_ROLE = env_bool("TENANCY_REQUIRE_RLS_ROLE", False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"

# Accounts (django-allauth): e-mail login, verified addresses, reset by e-mail, and rate
# limits on failed logins (per IP and per account: 5 failures in 5 min lock that account
# out for the rest of the window). Limits count in the cache (Redis when REDIS_URL is set).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "dashboard.accounts.SignupWorkspaceForm"
ACCOUNT_ADAPTER = "dashboard.accounts.AccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_REDIRECT_URL = "dashboard:onboarding"
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[AdFactory] "
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AdFactory <no-reply@localhost>")
# Mail goes to the console (the log) unless an SMTP host is configured.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"))
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 15
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
# Shared cache (login and API rate limits must count across processes): Redis when configured
# (CACHE_URL, default REDIS_URL), else process-local memory.
_CACHE_URL = env_str("CACHE_URL", "") or REDIS_URL
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL, "KEY_PREFIX": "adf"}
    if _CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or REDIS_URL or "filesystem://"
# Fair dispatch (generation/jobs/dispatch.py, docs/scaling.md): each queue is this many Redis
# lists, one per priority level ("default", "default:1", …); a stage message's level is its
# job's rank among its workspace's active jobs, and workers drain level 0 first.
JOBS_DISPATCH_LEVELS = env_int("JOBS_DISPATCH_LEVELS", 4)
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "priority_steps": list(range(JOBS_DISPATCH_LEVELS)),
        "sep": ":",
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
    # Campaign occurrences live in PostgreSQL (Campaign.next_due_at); the beat only ticks.
    "campaign-tick": {"task": "campaigns.tick", "schedule": env_float("CAMPAIGNS_TICK_S", 15.0)},
    "webhook-deliveries-due": {"task": "api.webhook_deliveries_due", "schedule": 10.0},
    "idempotency-keys-purge": {"task": "api.idempotency_keys_purge", "schedule": 3600.0},
}

# A publish to a down broker fails within about a second (the API then answers 503), not
# after kombu's default retries.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECT_TIMEOUT_S", 3.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AdFactory API",
    "DESCRIPTION": ("Product link in, brand-true marketing videos out. Errors are RFC 9457 problem documents "
                    "with a stable `code`; every POST accepts an `Idempotency-Key`; lists are cursor-paginated; "
                    "events are delivered as Standard Webhooks. Guide: docs/api.md."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"AspectEnum": "generation.jobs.services.ASPECTS"},
}

# API v1: rate limits ("N/s", "N/min", "N/h"), idempotency retention, upload limits.
API_RATE_LIMIT_KEY = env_str("API_RATE_LIMIT_KEY", "600/min")
API_RATE_LIMIT_WORKSPACE = env_str("API_RATE_LIMIT_WORKSPACE", "1800/min")
API_IDEMPOTENCY_TTL_S = env_int("API_IDEMPOTENCY_TTL_S", 24 * 3600)
API_IDEMPOTENCY_STALE_S = env_int("API_IDEMPOTENCY_STALE_S", 120)  # an in-flight claim older than this was abandoned
# Checked API keys are cached per process this long at most; changes made through Django
# (revoke, membership removed, user deactivated) apply at once via tenancy.auth_epoch.
# GET /api/v1/videos/{id} answered before most middleware and DRF (api/fast_status.py).
API_FAST_STATUS = env_bool("API_FAST_STATUS", True)
API_KEY_CACHE_TTL_S = env_float("API_KEY_CACHE_TTL_S", 5.0)
API_DOWNLOAD_URL_TTL_S = env_int("API_DOWNLOAD_URL_TTL_S", 3600)
API_LOGO_MAX_BYTES = env_int("API_LOGO_MAX_BYTES", 2 * 1024 * 1024)
API_LOGO_MAX_PIXELS = env_int("API_LOGO_MAX_PIXELS", 4096)
API_BATCH_MAX_ITEMS = env_int("API_BATCH_MAX_ITEMS", 500)

# Outbound webhooks (Standard Webhooks). Secrets are derived from WEBHOOK_SECRET_KEY
# (default: SECRET_KEY) and a per-endpoint nonce; rotating that key rotates every secret.
WEBHOOK_SECRET_KEY = env_str("WEBHOOK_SECRET_KEY", "") or SECRET_KEY
WEBHOOK_TIMEOUT_S = env_float("WEBHOOK_TIMEOUT_S", 10.0)
WEBHOOK_QUEUE = env_str("WEBHOOK_QUEUE", "default")  # a dedicated queue keeps deliveries off the render path
# Delay before attempt 2, 3, ... (seconds; ±20 % jitter): ~27.5 h in all, then the delivery fails.
WEBHOOK_RETRY_DELAYS_S = [int(x) for x in env_list(
    "WEBHOOK_RETRY_DELAYS_S", ["5", "60", "300", "1800", "7200", "18000", "36000", "36000"])]
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 15)  # consecutive failed attempts
WEBHOOK_ROTATION_OVERLAP_S = env_int("WEBHOOK_ROTATION_OVERLAP_S", 24 * 3600)
# Like CATALOG_SSRF_ALLOWED_HOSTS: host[:port] exceptions to the SSRF guard (tests, local receivers).
WEBHOOK_SSRF_ALLOWED_HOSTS = env_list("WEBHOOK_SSRF_ALLOWED_HOSTS", [])

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
