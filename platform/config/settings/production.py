"""Production settings: everything from the environment, secure by default.

Refuses to start with a weak or default SECRET_KEY, with DEBUG on, or without ALLOWED_HOSTS.
`manage.py check --deploy --fail-level WARNING` passes with only DJANGO_SECRET_KEY,
DATABASE_URL, REDIS_URL and DJANGO_ALLOWED_HOSTS set (tests/platform/config)."""
import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F401,F403
from .base import DEBUG, SECRET_KEY

_KNOWN_WEAK = {"change-me", "changeme", "dev-insecure-change-me", "secret", "django-insecure"}


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit for production, or None. Same bar as Django's security.W009
    (>= 50 characters, >= 5 distinct) plus known defaults and low-entropy keys."""
    if not key or key.strip().lower() in _KNOWN_WEAK or key.startswith("django-insecure-"):
        return "it is empty or a published default"
    if "change-me" in key.lower() or "changeme" in key.lower():
        return "it still contains a 'change-me' placeholder"
    if len(key) < 50:
        return f"it has {len(key)} characters; use at least 50"
    if len(set(key)) < 16:
        return f"it uses only {len(set(key))} distinct characters; use a random key"
    return None


_problem = secret_key_problem(SECRET_KEY)
if _problem:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is not fit for production: {_problem}. Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'")
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production settings.")
if not os.environ.get("DJANGO_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS (comma-separated host names) in production.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

# TLS: redirect http->https unless a proxy in front already does (DJANGO_SECURE_SSL_REDIRECT=0),
# and trust X-Forwarded-Proto only when the proxy is named (DJANGO_SECURE_PROXY_SSL_HEADER).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
_proxy_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER", "")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_").removeprefix("HTTP_"), "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True

# The app's database role must obey row-level security (tenancy/dbrole.py).
TENANCY_REQUIRE_RLS_ROLE = env_bool("TENANCY_REQUIRE_RLS_ROLE", True)
