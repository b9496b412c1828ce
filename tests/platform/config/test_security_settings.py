"""#10.2: debug is opt-in, media is never served unauthenticated, production settings are
secure by default and refuse weak keys, and error pages never show credentials."""
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import technical_500_response

from tests.platform.procs import PYTHON, clean_env, manage, production_env, run

_MEDIA_PROBE = """
import django, pathlib, sys
django.setup()
from django.conf import settings
from django.test import Client
target = pathlib.Path(settings.MEDIA_ROOT) / "workspaces/1/jobs/1/video.mp4"
target.parent.mkdir(parents=True, exist_ok=True)
target.write_bytes(b"tenant A's video")
response = Client().get("/media/workspaces/1/jobs/1/video.mp4")
print("DEBUG", settings.DEBUG, "STATUS", response.status_code)
"""


def _local_env(tmp_path, **extra):
    return clean_env(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(tmp_path / "var"),
                     MEDIA_ROOT=str(tmp_path / "media"), **extra)


def test_local_settings_debug_is_off_unless_explicitly_set(tmp_path):
    probe = "import django; django.setup(); from django.conf import settings; print('DEBUG', settings.DEBUG)"
    assert "DEBUG False" in run([PYTHON, "-c", probe], _local_env(tmp_path)).stdout
    assert "DEBUG True" in run([PYTHON, "-c", probe], _local_env(tmp_path, DJANGO_DEBUG="1")).stdout


@pytest.mark.parametrize("debug", ["0", "1"])
def test_media_is_not_served_without_auth_even_in_debug(tmp_path, debug):
    result = run([PYTHON, "-c", _MEDIA_PROBE], _local_env(tmp_path, DJANGO_DEBUG=debug))
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"DEBUG {debug == '1'} STATUS 404" in result.stdout, result.stdout


def test_check_deploy_passes_with_only_the_four_required_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "no issues" in result.stdout


@pytest.mark.parametrize("key, why", [
    ("change-me", "published default"),
    ("dev-insecure-change-me", "published default"),
    ("x" * 60, "distinct characters"),
    ("Zq8-short-but-random-Yk2", "characters; use at least 50"),
    ("change-me-" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6kL8nP0rS", "change-me"),
])
def test_production_refuses_weak_secret_keys(key, why):
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=key))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not fit for production" in result.stderr and why in result.stderr


def test_production_refuses_debug_and_missing_hosts():
    debug = manage("check", env=production_env(DJANGO_DEBUG="1"))
    assert debug.returncode != 0 and "DJANGO_DEBUG must be off" in debug.stderr
    hosts = manage("check", env=production_env(DJANGO_ALLOWED_HOSTS=None))
    assert hosts.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in hosts.stderr


def test_production_security_headers_and_cookies():
    probe = ("import django; django.setup(); from django.conf import settings as s; "
             "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
             " s.SECURE_REFERRER_POLICY, s.X_FRAME_OPTIONS, s.SECURE_PROXY_SSL_HEADER, s.TENANCY_REQUIRE_RLS_ROLE)")
    out = run([PYTHON, "-c", probe], production_env(DJANGO_SECURE_SSL_REDIRECT="0",
                                                     DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")).stdout
    assert out.split() == ["31536000", "False", "True", "True", "same-origin", "DENY", "('HTTP_X_FORWARDED_PROTO',",
                           "'https')", "True"]


# Secrets are assembled from parts so the page's source-context lines cannot contain them.
SECRETS = {name: name + "-" + str(n) for name, n in
           [("brokerpw", 4711), ("redispw", 815), ("dbpw", 2718), ("awssecret", 31415), ("secretkeyvalue", 9931)]}


def _explode(request):
    broker = f"redis://:{SECRETS['brokerpw']}@redis.internal:6379/0"  # noqa: F841 - a local the frame shows
    raise RuntimeError("cannot reach the broker")


def test_debug_500_page_shows_no_credentials(monkeypatch, settings):
    settings.DEBUG = True
    settings.REDIS_URL = settings.CELERY_BROKER_URL = f"redis://:{SECRETS['redispw']}@redis.internal:6379/0"
    settings.SECRET_KEY = "k" * 10 + SECRETS["secretkeyvalue"] + "z" * 30
    database_url = f"postgres://app:{SECRETS['dbpw']}@db.internal:5432/app"
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["awssecret"])
    request = RequestFactory().get("/boom")
    request.META["DATABASE_URL"] = database_url  # runserver copies os.environ into META
    try:
        _explode(request)
    except RuntimeError:
        page = technical_500_response(request, *sys.exc_info()).content.decode()
    assert "cannot reach the broker" in page and "redis.internal" in page  # still a useful page
    leaked = [name for name, secret in SECRETS.items() if secret in page]
    assert leaked == []
