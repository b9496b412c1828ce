"""Run the project's own entry points (manage.py, the WSGI app, gunicorn, celery) as real
subprocesses with a chosen environment, the way a container starts them."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def strong_secret_key() -> str:
    return secrets.token_urlsafe(64)


def clean_env(**overrides: str | None) -> dict[str, str]:
    """os.environ without any DJANGO_*/database/broker settings, plus ``overrides``
    (a None value removes the variable). PYTHONPATH keeps this worktree first."""
    drop = ("DJANGO_", "DATABASE_", "REDIS_URL", "CELERY_", "TENANCY_", "AWS_", "SECURE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "platform"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def production_env(**overrides: str | None) -> dict[str, str]:
    """The four variables production needs, and nothing else."""
    base = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": strong_secret_key(),
            "DATABASE_URL": "postgres://adfactory_app:pw@db.invalid:5432/adfactory",
            "REDIS_URL": "redis://redis.invalid:6379/0", "DJANGO_ALLOWED_HOSTS": "ads.example.com"}
    base.update(overrides)
    return clean_env(**base)


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run([PYTHON, "manage.py", *args], env, timeout)
