"""pytest settings: PostgreSQL + Redis when DATABASE_URL/REDIS_URL are set (make test sets
them), otherwise SQLite and no broker. Small renders, fast hashing."""
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import GENERATION, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="adfactory-static-"))
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="adfactory-media-"))
# Test workers don't preload the voice unless a test asks (GENERATION_WARM_VOICE=1): dozens of
# short-lived prefork children would each load it for nothing.
GENERATION = replace(GENERATION, render_scale=float(os.environ.get("GENERATION_RENDER_SCALE", "0.25")),
                     warm_voice=os.environ.get("GENERATION_WARM_VOICE", "0") == "1")
CELERY_TASK_ALWAYS_EAGER = False
STORAGES = {
    # Local files unless a test's worker processes are pointed at a bucket (AWS_STORAGE_BUCKET_NAME).
    "default": STORAGES["default"],
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Per-process cache: login rate-limit counters must not leak between test runs via Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
