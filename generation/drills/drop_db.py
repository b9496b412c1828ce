"""`manage.py drill drop-db`: the web app (gunicorn, its own process, persistent connections)
serves the API; then PostgreSQL kills every connection of the app (``pg_terminate_backend``) and
refuses new ones for a while (``ALLOW_CONNECTIONS false``, as during a restart or failover).
Every request in that window must answer 503 problem+json with Retry-After — never a 500, a
hang or a half-written row — and once the database takes connections again the same web
process must answer 200 with nothing restarted. A video created during the outage is refused
and charges nothing.

Args: ``--outage S`` (default 3), ``--requests N`` during the outage (default 6)."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

from django.conf import settings
from django.db import connection

from generation.drills.cluster import ROOT, database_url, drill_workspace, free_port, wait_until


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill drop-db")
    parser.add_argument("--outage", type=float, default=3.0)
    parser.add_argument("--requests", type=int, default=6)
    return parser.parse_args(args)


def _web(port: int, log) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
           "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "REDIS_URL": settings.CELERY_BROKER_URL,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), os.environ.get("PYTHONPATH", "")])}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return subprocess.Popen([gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
                             "--threads", "2", "--timeout", "30"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _sql(statement: str, *params) -> list:
    """Run as the database owner from the maintenance database ("postgres"): a database cannot
    refuse connections to itself from its own session."""
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432, user=db.get("USER"),
                         password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def run(args: list[str], out) -> dict:
    import requests

    from tenancy.context import tenant_context
    from tenancy.models import Membership
    from tenancy.services import api_key_create, credit_balance

    if connection.vendor != "postgresql":
        raise FileNotFoundError("drill drop-db needs PostgreSQL (DATABASE_URL)")
    opts = _args(args)
    granted = 5 * settings.CREDITS_PER_VIDEO
    workspace, brand = drill_workspace(name="drop-db", credits=granted)
    owner = Membership.objects.filter(workspace=workspace).first().user
    _, raw = api_key_create(workspace=workspace, name="drop-db", created_by=owner)
    headers = {"Authorization": f"Bearer {raw}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/videos"
    dbname = settings.DATABASES["default"]["NAME"]
    log = tempfile.NamedTemporaryFile("w+", prefix="drill-drop-db-web-", suffix=".log", delete=False)
    web = _web(port, log)
    statuses, problems, slowest = [], 0, 0.0
    try:
        if not wait_until(lambda: _ok(requests, base, headers), timeout=60, interval=0.2):
            log.seek(0)
            raise RuntimeError("gunicorn did not start:\n" + log.read()[-3000:])
        before = requests.get(base, headers=headers, timeout=10).status_code
        connection.close()  # this process's own connection is dropped too; it reconnects afterwards
        _sql(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS false')
        killed = _sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE datname = %s", dbname)[0][0]
        out.write(f"[drill] terminated {killed} connections to {dbname}; new ones refused for {opts.outage:.0f} s\n")
        outage_started = time.monotonic()
        try:
            for i in range(opts.requests):
                started = time.monotonic()
                if i % 2:
                    r = requests.post(base, headers=headers, json={"product_url": "https://shop.example/p/1"}, timeout=20)
                else:
                    r = requests.get(base, headers=headers, timeout=20)
                slowest = max(slowest, time.monotonic() - started)
                statuses.append(r.status_code)
                problems += (r.status_code == 503 and r.headers.get("Content-Type", "").startswith("application/problem+json")
                             and r.headers.get("Retry-After") is not None
                             and r.json().get("code") == "database_unavailable")
            time.sleep(max(0.0, opts.outage - (time.monotonic() - outage_started)))
        finally:
            _sql(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS true')
        restored = time.monotonic()
        recovered = wait_until(lambda: requests.get(base, headers=headers, timeout=10).status_code == 200,
                               timeout=30, interval=0.1)
        recovered_s = time.monotonic() - restored
        created = requests.post(base, headers=headers, json={"product_url": "https://shop.example/p/2"}, timeout=20)
        web_pid_same = web.poll() is None
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=30)
        log.close()
    from generation.jobs.models import VideoJob

    with tenant_context(workspace):
        jobs = list(VideoJob.objects.values_list("product_url", flat=True))
    credits_ok = jobs == ["https://shop.example/p/2"] and credit_balance(workspace=workspace) == granted - settings.CREDITS_PER_VIDEO
    result = {
        "requests_during_outage": len(statuses),
        "problem_503": problems,
        "other_status": sorted(set(s for s in statuses if s != 503)),
        "slowest_outage_request_s": round(slowest, 2),
        "before": before,
        "recovered": bool(recovered),
        "recovered_s": round(recovered_s, 2),
        "create_after_recovery": created.status_code,
        "web_restarted": not web_pid_same,
        "jobs": len(jobs),
        "lost": 0 if created.status_code == 202 else 1,
        "duplicates": max(0, len(jobs) - 1),
        "credits_ok": credits_ok,
    }
    result["ok"] = bool(before == 200 and problems == len(statuses) == opts.requests and recovered
                        and created.status_code == 202 and web_pid_same and credits_ok)
    return result


def _ok(requests, url: str, headers: dict) -> bool:
    try:
        return requests.get(url, headers=headers, timeout=5).status_code == 200
    except requests.RequestException:
        return False
